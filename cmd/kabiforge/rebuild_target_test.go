package main

import (
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/kernelnvr"
)

// rebuild takes an NVR, or the URL of an SRPM under a configured source
// (so it is verified like any other); other URLs are refused.
func TestRebuildTarget(t *testing.T) {
	cfg := &config.Config{Sources: []config.Source{
		{Name: "rhel8", URL: "https://cdn.example.invalid/content/dist/rhel8/8/x86_64/baseos/source/SRPMS"},
		{Name: "local", URL: "dir:///srv/upstream/"},
	}}
	cases := []struct{ arg, nvr, source, err string }{
		{"kernel-4.18.0-477.27.1.el8_8", "kernel-4.18.0-477.27.1.el8_8", "", ""},
		{"kernel-4.18.0-80.el8.src.rpm", "kernel-4.18.0-80.el8", "", ""},
		{"https://cdn.example.invalid/content/dist/rhel8/8/x86_64/baseos/source/SRPMS/Packages/k/kernel-4.18.0-348.el8.src.rpm",
			"kernel-4.18.0-348.el8", "rhel8", ""},
		{"dir:///srv/upstream/kernel-4.18.0-80.1.2.el8_0.src.rpm", "kernel-4.18.0-80.1.2.el8_0", "local", ""},
		{"https://elsewhere.example.invalid/kernel-4.18.0-348.el8.src.rpm", "", "", "lies under no configured source"},
		{"https://cdn.example.invalid/content/dist/rhel8/8/x86_64/baseos/source/SRPMS", "", "", "lies under no configured source"},
	}
	for _, c := range cases {
		nvr, src, err := rebuildTarget(cfg, c.arg)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("rebuildTarget(%q) error %v, want %q", c.arg, err, c.err)
			}
			continue
		}
		if err != nil || nvr != c.nvr || src != c.source {
			t.Errorf("rebuildTarget(%q) = %q, %q, %v; want %q, %q", c.arg, nvr, src, err, c.nvr, c.source)
		}
	}
}

// rebuild finds a kernel's stream by the watch's rule: kernel-rt and other
// packages that share a kernel's version and release belong to no stream.
func TestStreamOf(t *testing.T) {
	cfg := &config.Config{Streams: []config.Stream{
		{Name: "el8", Version: "4.18.0", Release: "*.el8*"},
		{Name: "el9", Version: "5.14.0", Release: "*.el9*"},
	}}
	cases := []struct{ nvr, stream string }{
		{"kernel-4.18.0-80.el8", "el8"},
		{"kernel-5.14.0-362.8.1.el9_3", "el9"},
		{"kernel-rt-4.18.0-80.el8", ""},
		{"kernel-rt-5.14.0-362.8.1.el9_3", ""},
		{"kernel-4.18.0-80.el7", ""},
	}
	for _, c := range cases {
		n, err := kernelnvr.Parse(c.nvr)
		if err != nil {
			t.Fatal(err)
		}
		st, ok := streamOf(cfg, n)
		if ok != (c.stream != "") || st.Name != c.stream {
			t.Errorf("streamOf(%s) = %q, %v; want %q", c.nvr, st.Name, ok, c.stream)
		}
	}
}
