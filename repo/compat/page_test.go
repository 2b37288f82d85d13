package compat

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func samplePage() Page {
	return Page{
		Repo: "el9", BaseURL: "http://127.0.0.1:8080/el9/",
		Generated: time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC),
		Install: []string{
			"sudo curl -o /etc/yum.repos.d/el9.repo http://127.0.0.1:8080/el9/el9.repo",
			"sudo mokutil --import /etc/pki/el9/SECURE-BOOT-KEY-el9.der",
		},
		Kernels: []Kernel{
			{NVR: "6.1.0-47.el9", Arch: "x86_64", Kind: Published, Kmods: map[string]Cell{
				"hellodrv": {State: Rebuilt, Version: "1.0-1.el9"},
				"miscdrv":  {State: Rebuilt, Version: "1.0-1.el9"},
			}},
			{NVR: "6.1.0-57.el9", Arch: "x86_64", Kind: Reference, Stream: "stream9", Kmods: map[string]Cell{
				"hellodrv": {State: Broken, Symbols: []string{"module_layout", "misc_register"}},
				"miscdrv":  {State: Compatible},
			}},
			{NVR: "6.1.0-47.1.el9", Arch: "x86_64", Kind: Published, Links: []Link{{"kABI report", "kabi/6.1.0-47.1.el9.json"}},
				Kmods: map[string]Cell{
					"hellodrv": {State: Kept, Version: "1.0-1.el9"},
					"miscdrv":  {State: Excluded, Reason: "kernel refused it: disagrees about version of symbol module_layout"},
					"<b>x</b>": {State: Unknown, Reason: "cannot read kmod-x.rpm: <truncated>"},
				}},
		},
	}
}

func TestSortedNewestFirst(t *testing.T) {
	var got []string
	for _, k := range samplePage().Sorted().Kernels {
		got = append(got, k.NVR+"/"+string(k.Kind))
	}
	want := "6.1.0-57.el9/reference 6.1.0-47.1.el9/published 6.1.0-47.el9/published"
	if strings.Join(got, " ") != want {
		t.Errorf("order %v, want %s", got, want)
	}
}

func TestValidate(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Page)
		err  string
	}{
		{"ok", func(*Page) {}, ""},
		{"no repo", func(p *Page) { p.Repo = "" }, "no repository name"},
		{"no arch", func(p *Page) { p.Kernels[0].Arch = "" }, "lacks its NVR or arch"},
		{"bad kind", func(p *Page) { p.Kernels[0].Kind = "other" }, `kind "other"`},
		{"bad state", func(p *Page) { p.Kernels[0].Kmods["hellodrv"] = Cell{State: "loads"} }, `kmod hellodrv on 6.1.0-47.el9 has state "loads"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := samplePage()
			tc.edit(&p)
			err := p.Validate()
			if (err == nil) != (tc.err == "") || err != nil && !strings.Contains(err.Error(), tc.err) {
				t.Errorf("Validate = %v, want %q", err, tc.err)
			}
			var buf bytes.Buffer
			if rerr := Render(&buf, p); (rerr == nil) != (err == nil) {
				t.Errorf("Render = %v, Validate = %v", rerr, err)
			}
		})
	}
}

func TestRenderEscapesAndSaysEveryState(t *testing.T) {
	var buf bytes.Buffer
	if err := Render(&buf, samplePage()); err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if strings.Contains(html, "<b>x</b>") || strings.Contains(html, "<truncated>") {
		t.Errorf("names and reasons are not escaped")
	}
	if strings.Contains(html, "<script") {
		t.Errorf("page has a script")
	}
	for _, s := range []State{Rebuilt, Kept, Excluded, Compatible, Broken, Unknown} {
		if !strings.Contains(html, `<span class="state">`+string(s)+`</span>`) {
			t.Errorf("state %s not written as a word", s)
		}
	}
	for _, want := range []string{`<th scope="col">hellodrv</th>`, `<th scope="row">6.1.0-57.el9.x86_64`, "mokutil --import", `href="status.json"`} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestWriteJSONRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteJSON(&buf, samplePage()); err != nil {
		t.Fatal(err)
	}
	var back Page
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Kernels[0].NVR != "6.1.0-57.el9" || back.Kernels[0].Kmods["hellodrv"].Symbols[1] != "misc_register" {
		t.Errorf("round trip: %+v", back.Kernels[0])
	}
	if err := back.Validate(); err != nil {
		t.Error(err)
	}
}
