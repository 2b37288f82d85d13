package sigfile_test

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/kabiforge/kabiforge/repo/sigfile"
)

// A signature covers the data it was made over and, by its 16-bit digest
// check, almost none of ten thousand other inputs: each passes with
// probability 2^-16, so about 0.15 of them on average, and more than 8
// with probability below 10^-11. (Asking for none failed CI once: a
// thousand inputs give a false match in 1.5% of runs.)
func TestCovers(t *testing.T) {
	data := []byte("<repomd>1</repomd>")
	sig := signRaw(t, signer(t), data)
	if !sigfile.Covers(sig, data) {
		t.Fatal("a signature does not cover its own data")
	}
	var matched []string
	for i := range 10000 {
		if other := fmt.Appendf(nil, "<repomd>%d</repomd>", i+2); sigfile.Covers(sig, other) {
			matched = append(matched, string(other))
		}
	}
	if len(matched) > 8 {
		t.Errorf("covers %d of 10000 other inputs, want about 0.15: %q", len(matched), matched)
	}
	if sigfile.Covers([]byte{0x89, 0x01}, data) {
		t.Error("a malformed packet covers data")
	}
}

// MoveFirst puts the signature over the given repomd.xml first so that a
// client checking only the first signature accepts it, keeps the order of
// the others, and leaves the file alone when nothing needs to move.
func TestMoveFirst(t *testing.T) {
	kr := signer(t).Key().Keyring()
	v3, v2, v1 := []byte("<repomd>3</repomd>"), []byte("<repomd>2</repomd>"), []byte("<repomd>1</repomd>")
	asc, sigs := multiAsc(t, v3, v2, v1)

	moved, ok := sigfile.MoveFirst(asc, v2)
	if !ok {
		t.Fatal("MoveFirst v2: nothing moved")
	}
	if err := sigfile.VerifyFirst(kr, v2, moved); err != nil {
		t.Errorf("after MoveFirst v2, the first signature does not verify v2: %v", err)
	}
	got, err := sigfile.Split(moved)
	if err != nil || len(got) != 3 || !bytes.Equal(got[0], sigs[1]) || !bytes.Equal(got[1], sigs[0]) || !bytes.Equal(got[2], sigs[2]) {
		t.Errorf("MoveFirst v2: %d packets in the wrong order (%v)", len(got), err)
	}
	for _, d := range [][]byte{v3, v2, v1} {
		if err := sigfile.VerifyAny(kr, d, moved); err != nil {
			t.Errorf("after MoveFirst, %s no longer verifies: %v", d, err)
		}
	}
	for name, data := range map[string][]byte{"already first": v3, "not signed": []byte("<repomd>9</repomd>")} {
		if out, ok := sigfile.MoveFirst(asc, data); ok || !bytes.Equal(out, asc) {
			t.Errorf("%s: MoveFirst changed the file", name)
		}
	}
	if out, ok := sigfile.MoveFirst([]byte("not a signature"), v1); ok || string(out) != "not a signature" {
		t.Error("MoveFirst changed an unparsable file")
	}
}
