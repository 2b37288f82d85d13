package build

import (
	"testing"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

func TestResolveUsesHostProvidesAndReportsTheRest(t *testing.T) {
	ix := &repoIndex{pkgs: []*rpm.Package{
		{NEVRA: rpm.NEVRA{Name: "kernel-devel", Version: "4.18.0", Release: "80.el8", Arch: "x86_64"}},
		{NEVRA: rpm.NEVRA{Name: "kernel-devel", Version: "4.18.0", Release: "147.el8", Arch: "x86_64"}},
		{NEVRA: rpm.NEVRA{Name: "kernel-abi-stablelists", Version: "4.18.0", Release: "80.el8", Arch: "noarch"},
			Files: []rpm.File{{Path: "/lib/modules/kabi-rhel80/kabi_stablelist_x86_64"}}},
	}}
	found, missing := resolve(ix, []string{"gcc"}, []rpm.Dep{
		{Name: "gcc"},
		{Name: "kernel-devel"},
		{Name: "/lib/modules/kabi-rhel80/kabi_stablelist_x86_64"},
		{Name: "elfutils-libelf-devel"},
	})
	if len(found) != 2 || found[0].NEVRA.Release != "147.el8" || found[1].NEVRA.Name != "kernel-abi-stablelists" {
		t.Errorf("found %v, want the newest kernel-devel and the stablelist by file", found)
	}
	if len(missing) != 1 || missing[0] != "elfutils-libelf-devel" {
		t.Errorf("missing = %q", missing)
	}
}

// FuzzRetargetSpec checks that retargeting any spec either fails cleanly or
// leaves a spec that names the new kernel (or asks for it by macro).
func FuzzRetargetSpec(f *testing.F) {
	f.Add("%define kmod_kernel_version 4.18.0-80.el8\n%define kmod_rpm_release 1\nRelease: %{kmod_rpm_release}%{?dist}\n")
	f.Add("%{!?kmod_kernel_version: %define kmod_kernel_version 4.18.0-80.el8}\n%{!?kmod_rpm_release: %define kmod_rpm_release 1}\n")
	f.Add("%global kmod_kernel_version 5.14.0-70.el9\nRelease: 3%{?dist}\n")
	f.Add("Name: x\n")
	f.Fuzz(func(t *testing.T, spec string) {
		out, res, err := retargetSpec([]byte(spec), "9.9.9-1.el9")
		if err != nil {
			return
		}
		if res.Release == "" {
			t.Fatalf("no release for %q", spec)
		}
		if res.Macros["kmod_kernel_version"] == "" && !hardKver.Match(out) {
			t.Fatalf("retargeted spec lost its kernel version: %q", out)
		}
	})
}

// FuzzMissingDeps checks that reading any root.log never panics.
func FuzzMissingDeps(f *testing.F) {
	f.Add("DEBUG util.py:446:  No matching package to install: 'kernel-devel = 4.18.0-80.el8'\n")
	f.Add("No match for argument: foo\n")
	f.Add("nothing provides kernel(x) = 0x1 needed by kmod-y\n")
	f.Fuzz(func(t *testing.T, log string) {
		for _, m := range missingDeps([]string{log}) {
			if m == "" {
				t.Fatalf("empty dependency from %q", log)
			}
		}
	})
}

func TestKernelDevelMacroMatchesTheDemoSpecs(t *testing.T) {
	if KernelDevelRootMacro != demo.KernelDevelRootMacro {
		t.Errorf("builder defines %%%s, demo kmod specs read %%%s", KernelDevelRootMacro, demo.KernelDevelRootMacro)
	}
}
