package publish

import (
	"slices"
	"testing"

	"github.com/kabiforge/kabiforge/repo/repodata"
)

func kpkg(name, rel, arch string, provides ...repodata.Dep) *repodata.Package {
	return &repodata.Package{Name: name, Version: "5.14.0", Release: rel, Arch: arch,
		SourceRPM: "kernel-5.14.0-" + rel + ".src.rpm", Provides: provides, Location: name + "-" + rel + "." + arch}
}

func kmod(name, rel, arch string, requires ...repodata.Dep) *repodata.Package {
	return &repodata.Package{Name: name, Version: "1", Release: rel, Arch: arch,
		SourceRPM: name + "-1-" + rel + ".src.rpm", Requires: requires, Location: name + "-" + rel + "." + arch}
}

func sym(name, crc string) repodata.Dep {
	return repodata.Dep{Name: "kernel(" + name + ")", Flags: "EQ", Epoch: "0", Version: crc}
}

func nevras(ps []*repodata.Package) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.NEVRA())
	}
	slices.Sort(out)
	return out
}

// Retention counts kernels per architecture, orders them by EVR (not by
// arrival), takes noarch subpackages along with their build, and keeps
// kmods no kernel in the repository ever satisfied.
func TestRetainPerArch(t *testing.T) {
	pkgs := []*repodata.Package{
		kpkg("kernel-core", "10.el9", "x86_64", sym("a", "0x1")),
		kpkg("kernel-core", "9.el9", "x86_64", sym("a", "0x1")),
		kpkg("kernel-core", "100.el9", "x86_64", sym("a", "0x2")), // newest by rpmvercmp
		kpkg("kernel-core", "9.el9", "aarch64", sym("a", "0x1")),
		kpkg("kernel-doc", "9.el9", "noarch"),
		kpkg("kernel-doc", "10.el9", "noarch"),
		kmod("kmod-old", "1", "x86_64", sym("a", "0x1")),     // needs 9 or 10
		kmod("kmod-arm", "1", "aarch64", sym("a", "0x1")),    // its only kernel is kept
		kmod("kmod-new", "1", "x86_64", sym("a", "0x2")),     // needs 100
		kmod("kmod-foreign", "1", "x86_64", sym("b", "0x9")), // no kernel here provides b
		{Name: "unrelated", Version: "1", Release: "1", Arch: "noarch", Location: "u"},
	}
	kept, dropped := Retention{Kernels: 1}.retain(pkgs)
	wantDropped := []string{"kernel-core-5.14.0-10.el9.x86_64", "kernel-core-5.14.0-9.el9.x86_64",
		"kernel-doc-5.14.0-10.el9.noarch", "kmod-old-1-1.x86_64"}
	if got := nevras(dropped); !slices.Equal(got, wantDropped) {
		t.Errorf("dropped %v\nwant %v", got, wantDropped)
	}
	if len(kept)+len(dropped) != len(pkgs) {
		t.Errorf("kept %d + dropped %d != %d", len(kept), len(dropped), len(pkgs))
	}
	// kernel-doc 9 stays: its source is still kept on aarch64.
	if !slices.Contains(nevras(kept), "kernel-doc-5.14.0-9.el9.noarch") {
		t.Errorf("kept %v lacks kernel-doc of the kept aarch64 build", nevras(kept))
	}
	if all, none := (Retention{}).retain(pkgs); len(all) != len(pkgs) || none != nil {
		t.Error("Kernels 0 should keep everything")
	}
}
