package rpm_test

import (
	"bytes"
	"os"
	"testing"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// ReadLayout gives each part of a real package's framing exactly as it
// stands in the file, at the offsets Read reports.
func TestReadLayoutSlicesTheFile(t *testing.T) {
	for _, path := range realRPMs(t) {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		l, err := rpm.ReadLayout(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		p, err := rpm.Read(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if l.HeaderStart != p.HeaderStart || l.PayloadStart != p.HeaderEnd {
			t.Errorf("%s: header at %d-%d, Read says %d-%d", path, l.HeaderStart, l.PayloadStart, p.HeaderStart, p.HeaderEnd)
		}
		if !bytes.Equal(l.Lead, data[:96]) || !bytes.Equal(l.Signature.Bytes, data[96:l.HeaderStart]) ||
			!bytes.Equal(l.Header.Bytes, data[l.HeaderStart:l.PayloadStart]) {
			t.Errorf("%s: lead or header bytes differ from the file's", path)
		}
		name, ok := l.Header.Entry(1000) // NAME
		if !ok || name.Type != rpm.TypeString || name.Count != 1 || string(name.Data) != p.NEVRA.Name+"\x00" {
			t.Errorf("%s: NAME entry %+v, want %q", path, name, p.NEVRA.Name)
		}
		for i := 1; i < len(l.Signature.Entries); i++ {
			if l.Signature.Entries[i-1].Tag > l.Signature.Entries[i].Tag {
				t.Errorf("%s: signature entries not sorted by tag", path)
			}
		}
	}
}

func TestReadLayoutRefusesTruncatedHeader(t *testing.T) {
	data, err := os.ReadFile(realRPMs(t)[0])
	if err != nil {
		t.Fatal(err)
	}
	l, err := rpm.ReadLayout(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	cut := data[:l.PayloadStart-1]
	if _, err := rpm.ReadLayout(bytes.NewReader(cut), int64(len(cut))); err == nil {
		t.Error("ReadLayout accepted a package cut inside its main header")
	}
}
