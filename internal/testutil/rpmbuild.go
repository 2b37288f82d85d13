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
	RequireTool(t, "rpmbuild")
	top := t.TempDir()
	specPath := filepath.Join(top, "pkg.spec")
	if err := os.WriteFile(specPath, []byte(spec), 0o644); err != nil {
		t.Fatal(err)
	}
	argv := []string{"-bb", "--nodeps",
		"--define", "_topdir " + top,
		"--define", "dist .el8",
		"--define", "_binary_payload w2.xzdio",
		"--define", "debug_package %{nil}",
		"--define", "_buildhost kabiforge-test",
	}
	argv = append(append(argv, args...), specPath)
	out, err := exec.Command("rpmbuild", argv...).CombinedOutput()
	if err != nil {
		t.Fatalf("rpmbuild %s: %v\n%s", specPath, err, out)
	}
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "*", "*.rpm"))
	if err != nil || len(rpms) == 0 {
		t.Fatalf("rpmbuild %s made no packages: %v\n%s", specPath, err, out)
	}
	return rpms
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
