package digest

import (
	"os"
	"path/filepath"
	"testing"
)

func TestFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(p, []byte("abc"), 0o644); err != nil {
		t.Fatal(err)
	}
	sum, n, err := File(p)
	if err != nil || n != 3 || sum != "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" {
		t.Errorf("File = %s, %d, %v", sum, n, err)
	}
	if _, _, err := File(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Error("a missing file has no checksum")
	}
}

func TestNew(t *testing.T) {
	for typ, size := range map[string]int{"sha": 20, "SHA1": 20, "sha224": 28, "sha256": 32, "Sha384": 48, "sha512": 64} {
		h, err := New(typ)
		if err != nil || h.Size() != size {
			t.Errorf("New(%q): %v, %v", typ, h, err)
		}
	}
	for _, typ := range []string{"md5", "crc32", ""} {
		if _, err := New(typ); err == nil {
			t.Errorf("New(%q) accepted", typ)
		}
	}
}
