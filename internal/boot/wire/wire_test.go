package wire

import (
	"bytes"
	"strings"
	"testing"
)

func TestParseSkipsNoise(t *testing.T) {
	var buf bytes.Buffer
	buf.WriteString("\x1b[2J\x1b[01;01H") // firmware escape codes glued to the first line
	Write(&buf, Line{Kind: KindStart, Release: "6.1.0-57-cloud-amd64"})
	buf.WriteString("garbage line\r\n")
	Write(&buf, Line{Kind: KindModule, Module: "hello", Errno: 8, Kmsg: []string{"hello: disagrees about version of symbol module_layout"}})
	lines, done, err := Parse(&buf)
	if err != nil || done || len(lines) != 2 {
		t.Fatalf("lines %+v done %v err %v", lines, done, err)
	}
	if lines[0].Release != "6.1.0-57-cloud-amd64" || lines[1].Errno != 8 || lines[1].Kmsg[0] != "hello: disagrees about version of symbol module_layout" {
		t.Errorf("lines %+v", lines)
	}
	Write(&buf, Line{Kind: KindDone})
	if _, done, _ := Parse(&buf); !done {
		t.Error("done line not seen")
	}
}

func TestKmsgText(t *testing.T) {
	for rec, want := range map[string]string{
		"4,1022,2345678,-;hello: disagrees about version of symbol module_layout\n": "hello: disagrees about version of symbol module_layout",
		"6,5,10,c;msg\n SUBSYSTEM=pci\n DEVICE=+pci:0000:00:00.0\n":                 "msg",
		"no header": "no header",
	} {
		if got := KmsgText(rec); got != want {
			t.Errorf("KmsgText(%q) = %q, want %q", rec, got, want)
		}
	}
}

func FuzzParse(f *testing.F) {
	f.Add(`{"kind":"module","module":"a","errno":8,"kmsg":["x"]}` + "\n" + `{"kind":"done"}`)
	f.Add("\x1b[0m{\"kind\":\"start\"}\r\n{not json")
	f.Fuzz(func(t *testing.T, s string) {
		lines, _, err := Parse(strings.NewReader(s))
		if err != nil {
			return
		}
		for _, l := range lines {
			if l.Kind != KindStart && l.Kind != KindModule {
				t.Fatalf("unexpected kind %q", l.Kind)
			}
		}
	})
}
