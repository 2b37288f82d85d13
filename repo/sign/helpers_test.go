package sign

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// buildRPM builds a tiny real binary RPM name-1.0-1.el8.noarch with
// testutil.RPMBuild and returns its path.
func buildRPM(t testing.TB, name string) string {
	t.Helper()
	rpms := testutil.RPMBuild(t, fmt.Sprintf(`Name: %s
Version: 1.0
Release: 1%%{?dist}
Summary: test package %s
License: MIT
BuildArch: noarch

%%description
A package built by repo/sign's tests.

%%install
mkdir -p %%{buildroot}/usr/share/%s
echo "hello from %s" > %%{buildroot}/usr/share/%s/hello.txt

%%files
/usr/share/%s/hello.txt
`, name, name, name, name, name, name))
	if len(rpms) != 1 || filepath.Base(rpms[0]) != name+"-1.0-1.el8.noarch.rpm" {
		t.Fatalf("rpmbuild made %v, want one %s-1.0-1.el8.noarch.rpm", rpms, name)
	}
	return rpms[0]
}

// testKeys are generated once per test binary: RSA 4096 generation takes seconds.
var testKeys = struct {
	sync.Mutex
	m map[Algorithm]*Key
}{m: map[Algorithm]*Key{}}

func testKey(t testing.TB, algo Algorithm) *Key {
	t.Helper()
	testKeys.Lock()
	defer testKeys.Unlock()
	if k := testKeys.m[algo]; k != nil {
		return k
	}
	k, err := Generate("kabiforge test", "test@kabiforge.invalid", algo)
	if err != nil {
		t.Fatal(err)
	}
	testKeys.m[algo] = k
	return k
}

// rpmkeysRoot imports the public keys into a fresh rpmdb root and returns
// a function running `rpmkeys --checksig` with signature-level verification.
func rpmkeysRoot(t testing.TB, keys ...*Key) func(pkg string) (string, error) {
	t.Helper()
	testutil.RequireTool(t, "rpmkeys")
	root, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range keys {
		pub := filepath.Join(root, fmt.Sprintf("pub%d.asc", i))
		f, err := os.Create(pub)
		if err != nil {
			t.Fatal(err)
		}
		if err := k.WritePublic(f); err != nil {
			t.Fatal(err)
		}
		f.Close()
		importKeyFile(t, root, pub)
	}
	return func(pkg string) (string, error) {
		out, err := exec.Command("rpmkeys", "--root", root, "--checksig",
			"--define", "_pkgverify_level signature", pkg).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
}

func importKeyFile(t testing.TB, root, pub string) {
	t.Helper()
	if out, err := exec.Command("rpmkeys", "--root", root, "--import", pub).CombinedOutput(); err != nil {
		t.Fatalf("rpmkeys --import %s: %v\n%s", pub, err, out)
	}
}

func copyFile(t testing.TB, src, dst string) {
	t.Helper()
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
