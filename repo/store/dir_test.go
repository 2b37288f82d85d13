package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/repo/store"
	"github.com/kabiforge/kabiforge/repo/store/storetest"
)

func TestDirContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		d, err := store.OpenDir(filepath.Join(t.TempDir(), "repo"))
		if err != nil {
			t.Fatal(err)
		}
		return d
	}, storetest.Options{})
}

// Two handles on one folder (as two processes would have) still let exactly
// one of many racing compare-and-swaps win: the lock is an flock, not a mutex.
func TestDirCompareAndSwapAcrossHandles(t *testing.T) {
	root := t.TempDir()
	a, _ := store.OpenDir(root)
	b, _ := store.OpenDir(root)
	base, err := a.Put(t.Context(), "repomd.xml", strings.NewReader("base"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	wins := 0
	for i := range storetest.Racers {
		s := a
		if i%2 == 1 {
			s = b
		}
		wg.Go(func() {
			_, err := s.CompareAndSwap(t.Context(), "repomd.xml", base.Version, strings.NewReader(fmt.Sprint(i)))
			switch {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("racer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d racers won, want 1", wins)
	}
}

// The version of a dir object is its content's sha256, so other tools (and
// the publish protocol) can compute it without the store.
func TestDirVersionIsSHA256(t *testing.T) {
	d, _ := store.OpenDir(t.TempDir())
	info, err := d.Put(t.Context(), "a", strings.NewReader("hello\n"))
	if err != nil {
		t.Fatal(err)
	}
	const want = "5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"
	if info.Version != want {
		t.Errorf("Version = %s, want sha256 %s", info.Version, want)
	}
}

// Writes leave no temporary files, files are world-readable (the HTTP
// server and rsync mirrors read them), and the store's own files are
// neither listed nor writable as keys.
func TestDirLeavesNoTemporaryFiles(t *testing.T) {
	root := t.TempDir()
	d, _ := store.OpenDir(root)
	ctx := t.Context()
	d.Put(ctx, "repodata/repomd.xml", strings.NewReader("x"))
	d.PutIfAbsent(ctx, "repodata/repomd.xml", strings.NewReader("y"))
	base, _ := d.Stat(ctx, "repodata/repomd.xml")
	d.CompareAndSwap(ctx, "repodata/repomd.xml", "stale", strings.NewReader("z"))
	d.CompareAndSwap(ctx, "repodata/repomd.xml", base.Version, strings.NewReader("w"))
	var files []string
	filepath.WalkDir(root, func(p string, e os.DirEntry, err error) error {
		if !e.IsDir() {
			rel, _ := filepath.Rel(root, p)
			files = append(files, rel)
			if fi, _ := e.Info(); rel != ".kabiforge-lock" && fi.Mode().Perm() != 0o644 {
				t.Errorf("%s has mode %v, want 0644", rel, fi.Mode().Perm())
			}
		}
		return nil
	})
	if want := []string{".kabiforge-lock", "repodata/repomd.xml"}; strings.Join(files, ",") != strings.Join(want, ",") {
		t.Errorf("files = %q, want %q", files, want)
	}
	for info, err := range d.List(ctx, "") {
		if err != nil || info.Key != "repodata/repomd.xml" {
			t.Errorf("List yielded %+v, %v; want only repodata/repomd.xml", info, err)
		}
	}
	if _, err := d.Put(ctx, "a/.kabiforge-lock", bytes.NewReader(nil)); !errors.Is(err, store.ErrInvalidKey) {
		t.Errorf("Put(a/.kabiforge-lock) error = %v, want ErrInvalidKey", err)
	}
}

func TestOpenDirURL(t *testing.T) {
	root := t.TempDir()
	for _, u := range []string{"dir://" + root, root, "file://" + root} {
		s, err := store.Open(t.Context(), u)
		if err != nil {
			t.Fatalf("Open(%q): %v", u, err)
		}
		if d, ok := s.(*store.Dir); !ok || d.Root() != root {
			t.Errorf("Open(%q) = %#v, want a Dir at %s", u, s, root)
		}
	}
	if _, err := store.Open(t.Context(), "dir://host/srv"); err == nil {
		t.Error("Open(dir://host/srv) succeeded, want an error about the host")
	}
}
