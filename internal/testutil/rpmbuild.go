package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// RPMBuild writes spec into a private %_topdir and builds its binary packages
// with rpmbuild, the way Debian's rpm needs it (dist .el8, an xz payload, no
// debuginfo, BuildRequires not checked). It returns the built RPMs' paths.
// Extra arguments are passed to rpmbuild before the spec (e.g. "--define", "x y").
func RPMBuild(t testing.TB, spec string, args ...string) []string {
	t.Helper()
	top := rpmbuild(t, "-bb", spec, "", args)
	return built(t, top, "RPMS/*/*.rpm")
}

// RPMBuildSRPM builds spec's source package (rpmbuild -bs) as RPMBuild
// builds binary ones and returns its path.
func RPMBuildSRPM(t testing.TB, spec string, args ...string) string {
	t.Helper()
	top := rpmbuild(t, "-bs", spec, "", args)
	srpms := built(t, top, "SRPMS/*.src.rpm")
	if len(srpms) != 1 {
		t.Fatalf("rpmbuild -bs made %d source packages: %v", len(srpms), srpms)
	}
	return srpms[0]
}

// RPMRebuild rebuilds the source package srpm (rpmbuild --rebuild) as
// RPMBuild builds a spec and returns the binary RPMs' paths.
func RPMRebuild(t testing.TB, srpm string, args ...string) []string {
	t.Helper()
	top := rpmbuild(t, "--rebuild", "", srpm, args)
	return built(t, top, "RPMS/*/*.rpm")
}

// rpmbuild runs rpmbuild in mode on spec (written into a new %_topdir) or,
// when spec is "", on the file input, and returns the %_topdir.
func rpmbuild(t testing.TB, mode, spec, input string, args []string) string {
	t.Helper()
	RequireTool(t, "rpmbuild")
	top := t.TempDir()
	if spec != "" {
		input = filepath.Join(top, "pkg.spec")
		if err := os.WriteFile(input, []byte(spec), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	argv := []string{mode, "--nodeps",
		"--define", "_topdir " + top,
		"--define", "_tmppath " + top,
		"--define", "dist .el8",
		"--define", "_binary_payload w2.xzdio",
		"--define", "debug_package %{nil}",
		"--define", "_buildhost kabiforge-test",
	}
	argv = append(append(argv, args...), input)
	cmd := exec.Command("rpmbuild", argv...)
	cmd.Env = isolatedEnv(top)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild %s %s: %v\n%s", mode, input, err, out)
	}
	return top
}

// built lists the files matching pattern (slash-separated) under top and
// fails the test when there are none.
func built(t testing.TB, top, pattern string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(top, filepath.FromSlash(pattern)))
	if err != nil || len(files) == 0 {
		t.Fatalf("rpmbuild in %s made no %s: %v", top, pattern, err)
	}
	return files
}

// SimpleSpec returns a spec for a small noarch package that installs one
// file, /usr/share/<name>/hello, and requires nothing.
func SimpleSpec(name, version, release string) string {
	return `Name: ` + name + `
Version: ` + version + `
Release: ` + release + `%{?dist}
Summary: kabiforge test package ` + name + `
License: MIT
BuildArch: noarch
AutoReqProv: no

%description
A small package built by kabiforge's tests.

%install
mkdir -p %{buildroot}/usr/share/` + name + `
echo "hello from ` + name + `" > %{buildroot}/usr/share/` + name + `/hello

%files
/usr/share/` + name + `/hello

%changelog
* Thu Nov 26 2026 kabiforge tests <tests@kabiforge.invalid> - ` + version + `-` + release + `
- Built for a test.
`
}
