package store_test

import (
	"errors"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/repo/store"
)

func TestValidKey(t *testing.T) {
	for _, key := range []string{"repomd.xml", "repodata/abc-primary.xml.gz", "Packages/k/kernel-5.14.0-1.el9.x86_64.rpm", ".hidden", "a..b", "..."} {
		if err := store.ValidKey(key); err != nil {
			t.Errorf("ValidKey(%q) = %v, want nil", key, err)
		}
	}
	for _, key := range []string{"", "/", "/a", "a/", "a//b", ".", "..", "../a", "a/..", "a/./b", `a\b`, "a\x00"} {
		if err := store.ValidKey(key); !errors.Is(err, store.ErrInvalidKey) {
			t.Errorf("ValidKey(%q) = %v, want ErrInvalidKey", key, err)
		}
	}
}

// Keys come from URLs (repo serve) and metadata files: a valid key is
// already clean and can never name a file outside the store's folder.
func FuzzValidKey(f *testing.F) {
	for _, seed := range []string{"repodata/repomd.xml", "../etc/passwd", "a/./b", "a//b", "/abs", `..\..\x`, "Packages/k/kernel.rpm"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if store.ValidKey(key) != nil {
			return
		}
		if path.Clean(key) != key {
			t.Errorf("valid key %q is not clean (%q)", key, path.Clean(key))
		}
		root := "/srv/repo"
		p := filepath.Join(root, filepath.FromSlash(key))
		if !strings.HasPrefix(p, root+"/") {
			t.Errorf("valid key %q escapes the root: %s", key, p)
		}
	})
}
