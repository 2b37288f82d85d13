package sign

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

func centosKeyring(t *testing.T, dir string) *Keyring {
	t.Helper()
	keys, _ := filepath.Glob(filepath.Join(dir, "RPM-GPG-KEY-CentOS-*"))
	kr, err := LoadKeyring(keys...)
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

func TestVerifyRealCentOSPackages(t *testing.T) {
	dir := testutil.SharedData(t, "rpm", "centos-signed")
	kr := centosKeyring(t, dir)
	pkgs, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
	verified := 0
	for _, p := range pkgs {
		sigs, err := kr.VerifyRPM(p)
		if err != nil {
			t.Logf("%s: %v", filepath.Base(p), err)
			continue
		}
		verified++
		t.Logf("%s: %+v", filepath.Base(p), sigs)
	}
	// rpmkeys confirms centos-release-7 is signed by CentOS 7's key f4a80eb5.
	sigs, err := kr.VerifyRPM(filepath.Join(dir, "centos-release-7-2.1511.el7.centos.2.10.x86_64.rpm"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(sigs[0].KeyID, "F4A80EB5") {
		t.Errorf("signed by %s, want key ...F4A80EB5", sigs[0].KeyID)
	}
	if verified != len(pkgs) {
		t.Errorf("%d of %d real CentOS packages verified", verified, len(pkgs))
	}
}

func TestVerifyRejectsTamperedRealPackage(t *testing.T) {
	dir := testutil.SharedData(t, "rpm", "centos-signed")
	kr := centosKeyring(t, dir)
	for _, name := range []string{"centos-release-7-2.1511.el7.centos.2.10.x86_64.rpm", "centos-release-3.1-1.i386.rpm"} {
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		data[len(data)-20] ^= 0x01 // one bit of the compressed payload
		p := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := kr.VerifyRPM(p); err == nil {
			t.Errorf("%s with a flipped payload bit verified", name)
		} else if !strings.Contains(err.Error(), p) {
			t.Errorf("error does not name the file: %v", err)
		}
	}
}
