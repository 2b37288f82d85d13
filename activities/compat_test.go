package activities

import (
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/compat"
	"github.com/kabiforge/kabiforge/repo/drift"
	"github.com/kabiforge/kabiforge/repo/kabi"
	"github.com/kabiforge/kabiforge/repo/repodata"
)

func pkgAt(name, version, release, arch string) *repodata.Package {
	file := name + "-" + version + "-" + release + "." + arch + ".rpm"
	return &repodata.Package{Name: name, Version: version, Release: release, Arch: arch, Location: "Packages/0/" + file}
}

func rec(kind pipeline.Kind, kmod, kernel, file string) pipeline.Provenance {
	return pipeline.Provenance{Kind: kind, Kmod: kmod, KernelNVR: kernel, RPM: pipeline.Artifact{Name: file}}
}

// TestCompatPage reads the page's decisions as a table: for each kernel
// row and kmod, the state and what the cell says.
func TestCompatPage(t *testing.T) {
	in := compatInput{Repo: "el8", BaseURL: "https://repo.example/el8", Revision: "1700000000", SecureBoot: true,
		Packages: []*repodata.Package{
			pkgAt("kernel-core", "6.1.0", "47.el8", "x86_64"), pkgAt("kernel-core", "6.1.0", "50.el8", "x86_64"),
			pkgAt("kmod-a", "1.0", "1.el8", "x86_64"), pkgAt("kmod-b", "1.0", "1.el8", "x86_64"), pkgAt("kmod-b", "1.0", "2.el8", "x86_64"),
		},
		Records: []pipeline.Provenance{
			rec(pipeline.KindKernel, "", "6.1.0-47.el8", "kernel-core-6.1.0-47.el8.x86_64.rpm"),
			rec(pipeline.KindKernel, "", "6.1.0-50.el8", "kernel-core-6.1.0-50.el8.x86_64.rpm"),
			rec(pipeline.KindKernel, "", "6.1.0-40.el8", "kernel-core-6.1.0-40.el8.x86_64.rpm"), // no longer published
			rec(pipeline.KindKmod, "a", "6.1.0-47.el8", "kmod-a-1.0-1.el8.x86_64.rpm"),
			rec(pipeline.KindKmod, "b", "6.1.0-47.el8", "kmod-b-1.0-1.el8.x86_64.rpm"),
			rec(pipeline.KindKmod, "b", "6.1.0-50.el8", "kmod-b-1.0-2.el8.x86_64.rpm"),
		},
		Outcomes: map[string]pipeline.KernelOutcome{
			"6.1.0-50.el8": {KernelNVR: "6.1.0-50.el8", Kmods: map[string]pipeline.KmodOutcome{
				"a": {State: pipeline.StateCompatible, Reason: "CRC-compatible, not boot-tested with 6.1.0-50.el8"},
				"b": {State: pipeline.StateRebuilt, Reason: "kABI broke: misc_register"},
				"c": {State: pipeline.StateExcluded, Reason: "build failed: error: implicit declaration"}},
				Reports: []pipeline.Artifact{{Name: "kabi-6.1.0-50.el8.x86_64.json"}}},
		},
		Drifts: []drift.Report{{Stream: "el8", KernelNVR: "6.1.0-57.el8", Arches: []drift.Arch{{Arch: "x86_64",
			Against: &drift.Comparison{Published: "6.1.0-50.el8", Changed: 6566, Removed: 13, Added: 28},
			Kmods: []drift.Result{
				{Name: "a", State: drift.Compatible, BuiltFor: "6.1.0-47.el8"},
				{Name: "b", State: drift.Broken, BuiltFor: "6.1.0-50.el8", Breaks: []kabi.Break{{Name: "misc_register", Kind: kabi.KindCRC, Stablelisted: true}, {Name: "gone", Kind: kabi.KindRemoved}}},
				{Name: "c", State: drift.Unknown, Problem: "read kmod-c.rpm: not an RPM"}}}}}},
	}
	p := compatPage(in)
	cells := map[string]string{}
	for _, k := range p.Kernels {
		for name, c := range k.Kmods {
			s := string(c.State)
			for _, v := range []string{c.Version, c.Reason, strings.Join(c.Symbols, ",")} {
				if v != "" {
					s += " | " + v
				}
			}
			cells[k.NVR+"/"+name] = s
		}
	}
	want := map[string]string{
		"6.1.0-47.el8/a": "rebuilt | 1.0-1.el8",
		"6.1.0-47.el8/b": "rebuilt | 1.0-1.el8",
		"6.1.0-50.el8/a": "kept | 1.0-1.el8 | CRC-compatible, not boot-tested with 6.1.0-50.el8; built for 6.1.0-47.el8",
		"6.1.0-50.el8/b": "rebuilt | 1.0-2.el8 | kABI broke: misc_register",
		"6.1.0-50.el8/c": "excluded | build failed: error: implicit declaration",
		"6.1.0-57.el8/a": "compatible | built for 6.1.0-47.el8",
		"6.1.0-57.el8/b": "broken | built for 6.1.0-50.el8 | misc_register (stablelisted),gone (removed)",
		"6.1.0-57.el8/c": "unknown | read kmod-c.rpm: not an RPM",
	}
	for k, w := range want {
		if cells[k] != w {
			t.Errorf("%s: %q, want %q", k, cells[k], w)
		}
	}
	if len(cells) != len(want) {
		t.Errorf("cells %v, want exactly %d", cells, len(want))
	}
	var rows []string
	for _, k := range p.Sorted().Kernels {
		rows = append(rows, k.NVR+" "+string(k.Kind)+" "+k.Note)
	}
	if strings.Join(rows, "\n") != "6.1.0-57.el8 reference against 6.1.0-50.el8: 6566 changed, 13 removed, 28 added\n6.1.0-50.el8 published \n6.1.0-47.el8 published " {
		t.Errorf("rows:\n%s", strings.Join(rows, "\n"))
	}
	links := map[string][]compat.Link{}
	for _, k := range p.Kernels {
		links[k.NVR] = k.Links
	}
	if l := links["6.1.0-50.el8"]; len(l) != 2 || l[1].Href != "reports/kabi-6.1.0-50.el8.x86_64.json" || l[0].Href != ".kabiforge/provenance/kernel-core-6.1.0-50.el8.x86_64.rpm.json" {
		t.Errorf("links of 6.1.0-50.el8: %+v", l)
	}
	if l := links["6.1.0-57.el8"]; len(l) != 1 || l[0].Href != "drift/6.1.0-57.el8.json" {
		t.Errorf("links of 6.1.0-57.el8: %+v", l)
	}
	install := strings.Join(p.Install, "\n")
	for _, w := range []string{"https://repo.example/el8/el8.repo", "rpm --import https://repo.example/el8/RPM-GPG-KEY-el8",
		"mokutil --import /root/SECURE-BOOT-KEY-el8.der", "dnf install kernel-core kmod-a kmod-b"} {
		if !strings.Contains(install, w) {
			t.Errorf("install lines lack %q:\n%s", w, install)
		}
	}
	if p.Revision != "1700000000" || p.Generated.Unix() != 1700000000 {
		t.Errorf("revision %s generated %v", p.Revision, p.Generated)
	}
}
