package build

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestRetargetReleaseForms retargets a spec for every Release form real kmod
// specs use and asks rpm itself, not the project's vercmp, whether the new
// release sorts higher: rpmspec expands both specs' Release, rpm's Lua
// rpm.vercmp compares them.
func TestRetargetReleaseForms(t *testing.T) {
	testutil.RequireTool(t, "rpmspec")
	testutil.RequireTool(t, "rpm")
	for _, tc := range []struct {
		name, defs, release, wantRelease string
	}{
		{name: "plain number", release: "1%{?dist}", wantRelease: "2%{?dist}"},
		{name: "number without dist", release: "7", wantRelease: "8"},
		{name: "starts with a macro",
			defs: "%define original_release 5\n", release: "%{original_release}.1%{?dist}",
			wantRelease: "%{original_release}.2%{?dist}"},
		{name: "only a macro",
			defs: "%define original_release 5\n", release: "%{original_release}%{?dist}",
			wantRelease: "%{original_release}.1%{?dist}"},
		{name: "non-numeric suffix", release: "3.elrepo%{?dist}", wantRelease: "3.elrepo.1%{?dist}"},
		{name: "suffix after dist", release: "2%{?dist}.elrepo", wantRelease: "3%{?dist}.elrepo"},
		{name: "prerelease", release: "0.rc1%{?dist}", wantRelease: "0.rc2%{?dist}"},
		{name: "conditional macro",
			release: "%{?pkgrel}%{!?pkgrel:4}%{?dist}", wantRelease: "%{?pkgrel}%{!?pkgrel:4}.1%{?dist}"},
		{name: "plain dist macro", release: "9%dist", wantRelease: "10%dist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			spec := tc.defs + "%define kmod_kernel_version 6.1.0-47\nName: kmod-x\nVersion: 1.0\nRelease: " +
				tc.release + "\nSummary: x\nLicense: GPLv2\n%description\nx\n"
			edited, _, err := retargetSpec([]byte(spec), "6.1.0-57")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(edited), "\nRelease: "+tc.wantRelease+"\n") {
				t.Errorf("edited spec:\n%s\nwant Release: %s", edited, tc.wantRelease)
			}
			oldRel, newRel := specRelease(t, spec), specRelease(t, string(edited))
			if c := rpmVercmp(t, newRel, oldRel); c != "1" {
				t.Errorf("rpm vercmp(%q, %q) = %s, want 1", newRel, oldRel, c)
			}
		})
	}
}

// hostFreeEnv is the environment for rpm tools that must not read the
// user's ~/.rpmmacros.
func hostFreeEnv(t *testing.T) []string {
	return append(os.Environ(), "HOME="+t.TempDir())
}

// specRelease is the Release rpmspec expands from spec, with dist ".el8".
func specRelease(t *testing.T, spec string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "x.spec")
	if err := os.WriteFile(p, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("rpmspec", "-q", "--srpm", "--define", "dist .el8", "--qf", "%{release}", p)
	cmd.Env = hostFreeEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rpmspec %s: %v\n%s", p, err, out)
	}
	return strings.TrimSpace(string(out))
}

// rpmVercmp is rpm's own comparison of two releases: "1", "0" or "-1".
func rpmVercmp(t *testing.T, a, b string) string {
	t.Helper()
	cmd := exec.Command("rpm", "--eval", `%{lua: print(rpm.vercmp("`+a+`", "`+b+`"))}`)
	cmd.Env = hostFreeEnv(t)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rpm vercmp: %v\n%s", err, out)
	}
	return strings.TrimSpace(string(out))
}
