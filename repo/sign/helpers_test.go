package sign

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
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
	var pubs [][]byte
	for _, k := range keys {
		var b bytes.Buffer
		if err := k.WritePublic(&b); err != nil {
			t.Fatal(err)
		}
		pubs = append(pubs, b.Bytes())
	}
	return testutil.RPMKeys(t, pubs...)
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
