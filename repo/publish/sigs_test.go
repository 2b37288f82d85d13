package publish

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// repomd.xml.asc with the new signature first and older ones after it
// verifies each of those repomd.xml files for a client trying every
// signature, and only the newest for one trying the first.
func TestMultiSignatureAsc(t *testing.T) {
	s := signer(t)
	kr := s.Key().Keyring()
	old, cur := []byte("<repomd>old</repomd>"), []byte("<repomd>new</repomd>")
	var sigs [][]byte
	for _, d := range [][]byte{cur, old} {
		raw, err := signRaw(s, d)
		if err != nil {
			t.Fatal(err)
		}
		sigs = append(sigs, raw)
	}
	asc, err := armorSignatures(sigs)
	if err != nil {
		t.Fatal(err)
	}
	split, err := SplitSignatures(asc)
	if err != nil || len(split) != 2 || !bytes.Equal(split[0], sigs[0]) || !bytes.Equal(split[1], sigs[1]) {
		t.Fatalf("split %d packets, %v", len(split), err)
	}
	for _, d := range [][]byte{cur, old} {
		if err := VerifyAny(kr, d, asc); err != nil {
			t.Errorf("VerifyAny %s: %v", d, err)
		}
	}
	if err := VerifyFirst(kr, cur, asc); err != nil {
		t.Errorf("VerifyFirst new: %v", err)
	}
	if VerifyFirst(kr, old, asc) == nil {
		t.Error("VerifyFirst old: verified by the second signature")
	}
	if VerifyAny(kr, []byte("<repomd>other</repomd>"), asc) == nil {
		t.Error("VerifyAny accepted data no signature covers")
	}
}

// A real repomd.xml.asc (librepo's test repository) splits into its
// signature, which verifies repomd.xml with the repository's key.
func TestSplitRealSignature(t *testing.T) {
	dir := testutil.SharedData(t, "rpm", "librepo", "repo_yum_01", "repodata")
	asc, err := os.ReadFile(filepath.Join(dir, "repomd.xml.asc"))
	if err != nil {
		t.Fatal(err)
	}
	repomd, err := os.ReadFile(filepath.Join(dir, "repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	kr, err := sign.LoadKeyring(filepath.Join(dir, "repomd.xml.key.asc"))
	if err != nil {
		t.Fatal(err)
	}
	sigs, err := SplitSignatures(asc)
	if err != nil || len(sigs) != 1 {
		t.Fatalf("%d signatures, %v", len(sigs), err)
	}
	if err := VerifyAny(kr, repomd, asc); err != nil {
		t.Fatal(err)
	}
	if VerifyAny(kr, append(repomd, ' '), asc) == nil {
		t.Fatal("a changed repomd.xml verified")
	}
}

// FuzzSplitSignatures: any input either fails or splits into packets that
// concatenate back to the input's binary form.
func FuzzSplitSignatures(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(f), "..", "shared", "data", "rpm", "librepo", "repo_yum_01", "repodata", "repomd.xml.asc")); err == nil {
		f.Add(b)
	}
	s := signer(f)
	raw, err := signRaw(s, []byte("x"))
	if err != nil {
		f.Fatal(err)
	}
	asc, _ := armorSignatures([][]byte{raw, raw})
	f.Add(asc)
	f.Add(raw)
	f.Add([]byte{0x89, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		sigs, err := SplitSignatures(in)
		if err != nil {
			return
		}
		bin, err := dearmor(in)
		if err != nil {
			t.Fatalf("split succeeded but dearmor failed: %v", err)
		}
		if got := bytes.Join(sigs, nil); !bytes.Equal(got, bin) {
			t.Fatalf("packets do not concatenate back to the input")
		}
		for _, sig := range sigs {
			VerifyAny(s.Key().Keyring(), []byte("x"), sig) // must not panic
		}
	})
}
