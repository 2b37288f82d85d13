package repodata

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// tpkgSpec exercises everything primary, filelists and other carry: files in
// /etc and /usr/bin, a ghost, directories, versioned and pre requires,
// requires that createrepo_c drops, provides, conflicts, obsoletes, weak
// deps and a changelog longer than ChangelogLimit.
const tpkgSpec = `Name: tpkg
Version: 1.2
Release: 3%{?dist}
Summary: A <test> & "package"
License: MIT
URL: https://example.com/tpkg
BuildArch: x86_64
Requires: bash >= 4.0
Requires: /bin/sh
Requires: /usr/bin/tpkg
Requires: /usr/share/tpkg/data.txt
Requires: tpkg-common
Requires: tpkg-common = %{version}-%{release}
Requires: /usr/bin/tpkg-alias
Requires: libfoo.so.1()(64bit)
Requires(pre): shadow-utils
Requires(post): coreutils >= 8
Requires(preun): procps
Requires: coreutils >= 8
Requires: epochdep >= 2:1.0-1
Provides: tpkg-common = %{version}-%{release}
Provides: /usr/bin/tpkg-alias
Conflicts: oldthing < 2
Obsoletes: tpkg-old <= 1.0
Recommends: weak-a >= 1
Suggests: weak-b
Supplements: weak-c
Enhances: weak-d

%description
Line one.
Line two with <b>tags</b> & ampersand.

%install
mkdir -p %{buildroot}/etc/tpkg %{buildroot}/usr/bin %{buildroot}/usr/share/tpkg %{buildroot}/usr/sbin %{buildroot}/usr/lib/xbin
echo conf > %{buildroot}/etc/tpkg/tpkg.conf
printf '#!/bin/sh\necho hi\n' > %{buildroot}/usr/bin/tpkg
chmod 755 %{buildroot}/usr/bin/tpkg
echo data > %{buildroot}/usr/share/tpkg/data.txt
echo x > %{buildroot}/usr/sbin/tpkgd
echo y > %{buildroot}/usr/lib/xbin/foo
ln -s tpkg %{buildroot}/usr/bin/tpkg-link

%pre
exit 0

%files
%dir /etc/tpkg
%config(noreplace) /etc/tpkg/tpkg.conf
/usr/bin/tpkg
/usr/bin/tpkg-link
/usr/sbin/tpkgd
/usr/lib/xbin
%ghost /etc/tpkg/ghost.log
/usr/share/tpkg

%changelog
* Sat Jan 13 2024 Alice <alice@example.com> - 1.2-3
- third
* Fri Jan 12 2024 Bob <bob@example.com> - 1.2-2
- second
  with more lines
* Thu Jan 11 2024 Alice <alice@example.com> - 1.2-1
- first
* Wed Jan 10 2024 X <x@example.com> - 0.9-1
- old 9
* Tue Jan 09 2024 X <x@example.com> - 0.8-1
- old 8
* Mon Jan 08 2024 X <x@example.com> - 0.7-1
- old 7
* Sun Jan 07 2024 X <x@example.com> - 0.6-1
- old 6
* Sat Jan 06 2024 X <x@example.com> - 0.5-1
- old 5
* Fri Jan 05 2024 X <x@example.com> - 0.4-1
- old 4
* Thu Jan 04 2024 X <x@example.com> - 0.3-1
- old 3
* Wed Jan 03 2024 X <x@example.com> - 0.2-1
- old 2
* Tue Jan 02 2024 X <x@example.com> - 0.1-1
- old 1
`

// epochSpec is a noarch package with an epoch and no changelog.
const epochSpec = `Name: epochpkg
Epoch: 3
Version: 2.0
Release: 1%{?dist}
Summary: Package with an epoch
License: GPLv2
BuildArch: noarch
Provides: epochpkg-api = 3:2.0
Requires: tpkg >= 1.2
%description
Has an epoch.
%install
mkdir -p %{buildroot}/usr/share/epochpkg %{buildroot}/etc
echo a > %{buildroot}/usr/share/epochpkg/a
echo b > %{buildroot}/etc/epochpkg.conf
%files
/usr/share/epochpkg
%config /etc/epochpkg.conf
`

// rpmbuild builds spec with testutil.RPMBuild and copies its binary RPMs into out.
func rpmbuild(t testing.TB, out, spec string, defines ...string) {
	t.Helper()
	var args []string
	for _, d := range defines {
		args = append(args, "--define", d)
	}
	for _, r := range testutil.RPMBuild(t, spec, args...) {
		copyFile(t, r, filepath.Join(out, filepath.Base(r)))
	}
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// createrepo runs createrepo_c --no-database on dir with extra arguments.
func createrepo(t testing.TB, dir string, extra ...string) {
	t.Helper()
	testutil.RequireTool(t, "createrepo_c")
	args := append([]string{"--no-database", "--quiet"}, extra...)
	cmd := exec.Command("createrepo_c", append(args, dir)...)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c %s: %v\n%s", dir, err, b)
	}
}
