package sign

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

func TestSignedRPMPassesRpmkeys(t *testing.T) {
	for _, algo := range []Algorithm{RSA4096, Ed25519} {
		t.Run(string(algo), func(t *testing.T) {
			dir := t.TempDir()
			built := buildRPM(t, "signme")
			key := testKey(t, algo)
			checksig := rpmkeysRoot(t, key)

			if out, err := checksig(built); err == nil {
				t.Fatalf("rpmkeys accepted the unsigned package: %s", out)
			}
			signed := filepath.Join(dir, "signed.rpm")
			if err := NewSigner(key).SignRPMTo(built, signed); err != nil {
				t.Fatal(err)
			}
			if out, err := checksig(signed); err != nil {
				t.Fatalf("rpmkeys rejected the signed package: %v\n%s", err, out)
			}
			sigs, err := key.Keyring().VerifyRPM(signed)
			if err != nil {
				t.Fatal(err)
			}
			if len(sigs) != 1 || !sigs[0].HeaderOnly || sigs[0].KeyID != key.KeyID() {
				t.Errorf("VerifyRPM = %+v, want one header signature by %s", sigs, key.KeyID())
			}
		})
	}
}

func TestSignInPlaceAndResign(t *testing.T) {
	pkg := buildRPM(t, "inplace")
	key := testKey(t, RSA4096)
	s := NewSigner(key)
	for range 2 { // signing a signed package replaces its signature
		if err := s.SignRPM(pkg); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := rpmkeysRoot(t, key)(pkg); err != nil {
		t.Fatalf("rpmkeys: %v\n%s", err, out)
	}
	assertNoTempFiles(t, filepath.Dir(pkg))
}

func TestTamperedRPMFailsVerification(t *testing.T) {
	dir := t.TempDir()
	pkg := buildRPM(t, "tamper")
	key := testKey(t, RSA4096)
	if err := NewSigner(key).SignRPM(pkg); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	f, err := readRPMHeaders(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	checksig := rpmkeysRoot(t, key)
	for name, off := range map[string]int64{
		"header":  f.mainStart + int64(len(f.main.raw)) - 5, // inside the header data store
		"payload": int64(len(data)) - 10,
	} {
		t.Run(name, func(t *testing.T) {
			bad := append([]byte(nil), data...)
			bad[off] ^= 0xff
			p := filepath.Join(dir, name+".rpm")
			if err := os.WriteFile(p, bad, 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := checksig(p); err == nil {
				t.Errorf("rpmkeys accepted a package with a tampered %s: %s", name, out)
			}
			if _, err := key.Keyring().VerifyRPM(p); err == nil {
				t.Errorf("VerifyRPM accepted a package with a tampered %s", name)
			}
		})
	}
}

func TestResignRealCentOSPackages(t *testing.T) {
	src := testutil.SharedData(t, "rpm", "centos-signed")
	key := testKey(t, RSA4096)
	checksig := rpmkeysRoot(t, key)
	centos := centosKeyring(t, src)
	pkgs, _ := filepath.Glob(filepath.Join(src, "*.rpm"))
	if len(pkgs) < 5 {
		t.Fatalf("found %d packages in %s", len(pkgs), src)
	}
	dir := t.TempDir()
	for _, p := range pkgs {
		t.Run(filepath.Base(p), func(t *testing.T) {
			dst := filepath.Join(dir, filepath.Base(p))
			if err := NewSigner(key).SignRPMTo(p, dst); err != nil {
				t.Fatal(err)
			}
			if _, err := key.Keyring().VerifyRPM(dst); err != nil {
				t.Errorf("our key does not verify the re-signed package: %v", err)
			}
			if _, err := centos.VerifyRPM(dst); err == nil {
				t.Errorf("CentOS keys still verify the re-signed package")
			}
			if strings.Contains(p, "release-7") || strings.Contains(p, "release-6") || strings.Contains(p, "epel") {
				// rpm 4.18 still reads these; older ones use v3 headers it no longer checks the same way.
				if out, err := checksig(dst); err != nil {
					t.Errorf("rpmkeys rejected the re-signed package: %v\n%s", err, out)
				}
			}
		})
	}
}

func assertNoTempFiles(t *testing.T, dir string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestSignRefusesBadPackagesAndLeavesNothingBehind(t *testing.T) {
	good := buildRPM(t, "badinput")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	f, err := readRPMHeaders(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	corruptHeader := append([]byte(nil), data...)
	corruptHeader[f.mainStart+20] ^= 0xff // an index entry of the main header
	work := t.TempDir()
	cases := map[string]struct {
		data []byte
		want string
	}{
		"truncated in payload": {data[:len(data)-100], "truncated"},
		"truncated in header":  {data[:f.mainStart+40], "truncated"},
		"not an RPM":           {[]byte("<html>404 not found</html>\n" + strings.Repeat("x", 200)), "not an RPM"},
		"empty":                {nil, "truncated"},
		"corrupt header":       {corruptHeader, "header"},
	}
	key := testKey(t, Ed25519)
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(work, strings.ReplaceAll(name, " ", "-")+".rpm")
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			dst := p + ".signed"
			for _, sign := range []func() error{
				func() error { return NewSigner(key).SignRPM(p) },
				func() error { return NewSigner(key).SignRPMTo(p, dst) },
			} {
				err := sign()
				if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), c.want) {
					t.Errorf("got %v, want an error naming %s and saying %q", err, p, c.want)
				}
			}
			after, _ := os.ReadFile(p)
			if !bytes.Equal(after, c.data) {
				t.Error("the input file was modified")
			}
			if _, err := os.Stat(dst); err == nil {
				t.Error("a signed copy was written for bad input")
			}
			if _, err := key.Keyring().VerifyRPM(p); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("VerifyRPM: %v", err)
			}
		})
	}
	assertNoTempFiles(t, work)
}

func TestVerifyRejectsUnsignedPackage(t *testing.T) {
	pkg := buildRPM(t, "unsigned")
	_, err := testKey(t, Ed25519).Keyring().VerifyRPM(pkg)
	if err == nil || !strings.Contains(err.Error(), "not signed") {
		t.Errorf("VerifyRPM of an unsigned package: %v", err)
	}
}

// createrepo_c's test packages include an SRPM and packages already signed
// with RSA, EdDSA and several v6 signatures (rpm 4.20's OPENPGP tag).
func TestResignCreaterepoCPackages(t *testing.T) {
	src := testutil.SharedData(t, "rpm", "createrepo_c", "packages")
	pkgs, _ := filepath.Glob(filepath.Join(src, "*.rpm"))
	if len(pkgs) < 5 {
		t.Fatalf("found %d packages in %s", len(pkgs), src)
	}
	key := testKey(t, Ed25519)
	checksig := rpmkeysRoot(t, key)
	dir := t.TempDir()
	for _, p := range pkgs {
		dst := filepath.Join(dir, filepath.Base(p))
		if err := NewSigner(key).SignRPMTo(p, dst); err != nil {
			t.Errorf("%v", err)
			continue
		}
		if out, err := checksig(dst); err != nil {
			t.Errorf("rpmkeys rejected re-signed %s: %v\n%s", filepath.Base(p), err, out)
		}
		if _, err := key.Keyring().VerifyRPM(dst); err != nil {
			t.Error(err)
		}
	}
}
