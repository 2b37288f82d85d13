package sigfile_test

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/sign"
)

var (
	keyOnce sync.Once
	testKey *sign.Key
)

// signer returns a signer with one Ed25519 key shared by the package's tests.
func signer(t testing.TB) *sign.Signer {
	keyOnce.Do(func() {
		k, err := sign.Generate("kabiforge sigfile test", "sigfile@kabiforge.invalid", sign.Ed25519)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return sign.NewSigner(testKey)
}

// signRaw returns the binary signature packet of s over data.
func signRaw(t testing.TB, s *sign.Signer, data []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := s.Detach(&buf, bytes.NewReader(data)); err != nil {
		t.Fatal(err)
	}
	sigs, err := sigfile.Split(buf.Bytes())
	if err != nil || len(sigs) != 1 {
		t.Fatalf("detached signature: %d packets, %v", len(sigs), err)
	}
	return sigs[0]
}

// multiAsc signs each of datas and armors the signatures in that order.
func multiAsc(t testing.TB, datas ...[]byte) (asc []byte, sigs [][]byte) {
	t.Helper()
	for _, d := range datas {
		sigs = append(sigs, signRaw(t, signer(t), d))
	}
	asc, err := sigfile.Armor(sigs)
	if err != nil {
		t.Fatal(err)
	}
	return asc, sigs
}

// repomd.xml.asc with the new signature first and older ones after it
// verifies each of those repomd.xml files for a client trying every
// signature, and only the newest for one trying the first.
func TestMultiSignatureAsc(t *testing.T) {
	kr := signer(t).Key().Keyring()
	old, cur := []byte("<repomd>old</repomd>"), []byte("<repomd>new</repomd>")
	asc, sigs := multiAsc(t, cur, old)
	split, err := sigfile.Split(asc)
	if err != nil || len(split) != 2 || !bytes.Equal(split[0], sigs[0]) || !bytes.Equal(split[1], sigs[1]) {
		t.Fatalf("split %d packets, %v", len(split), err)
	}
	for _, d := range [][]byte{cur, old} {
		if err := sigfile.VerifyAny(kr, d, asc); err != nil {
			t.Errorf("VerifyAny %s: %v", d, err)
		}
	}
	if err := sigfile.VerifyFirst(kr, cur, asc); err != nil {
		t.Errorf("VerifyFirst new: %v", err)
	}
	if sigfile.VerifyFirst(kr, old, asc) == nil {
		t.Error("VerifyFirst old: verified by the second signature")
	}
	if sigfile.VerifyAny(kr, []byte("<repomd>other</repomd>"), asc) == nil {
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
	sigs, err := sigfile.Split(asc)
	if err != nil || len(sigs) != 1 {
		t.Fatalf("%d signatures, %v", len(sigs), err)
	}
	if err := sigfile.VerifyAny(kr, repomd, asc); err != nil {
		t.Fatal(err)
	}
	if sigfile.VerifyAny(kr, append(repomd, ' '), asc) == nil {
		t.Fatal("a changed repomd.xml verified")
	}
	if !sigfile.Covers(sigs[0], repomd) {
		t.Error("the real signature does not cover its repomd.xml by digest check")
	}
}

// FuzzSplit: any input either fails or splits into packets that
// concatenate back to the input's binary form; Covers and MoveFirst never
// panic on what Split accepts.
func FuzzSplit(f *testing.F) {
	if b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(f), "..", "shared", "data", "rpm", "librepo", "repo_yum_01", "repodata", "repomd.xml.asc")); err == nil {
		f.Add(b)
	}
	raw := signRaw(f, signer(f), []byte("x"))
	asc, _ := sigfile.Armor([][]byte{raw, raw})
	f.Add(asc)
	f.Add(raw)
	f.Add([]byte{0x89, 0x01, 0x00})
	f.Fuzz(func(t *testing.T, in []byte) {
		sigs, err := sigfile.Split(in)
		if err != nil {
			return
		}
		bin, err := sigfile.Dearmor(in)
		if err != nil {
			t.Fatalf("split succeeded but dearmor failed: %v", err)
		}
		if got := bytes.Join(sigs, nil); !bytes.Equal(got, bin) {
			t.Fatalf("packets do not concatenate back to the input")
		}
		for _, sig := range sigs {
			sigfile.VerifyAny(signer(t).Key().Keyring(), []byte("x"), sig) // must not panic
			sigfile.Covers(sig, []byte("x"))
		}
		sigfile.MoveFirst(in, []byte("x"))
	})
}
