package publish

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/store"
)

// failKey fails every write of one key, as a publisher killed before it
// could write that key would leave things.
type failKey struct {
	store.Store
	key string
}

var errKilled = errors.New("publisher killed")

func (f failKey) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (store.Info, error) {
	if key == f.key {
		return store.Info{}, errKilled
	}
	return f.Store.CompareAndSwap(ctx, key, version, r)
}

func (f failKey) Put(ctx context.Context, key string, r io.Reader) (store.Info, error) {
	if key == f.key {
		return store.Info{}, errKilled
	}
	return f.Store.Put(ctx, key, r)
}

// What a publish cut short uploaded (a package, checksum-named metadata)
// is deleted by a cleanup once it is older than the retention window, and
// never while younger; the repository clients read stays whole.
func TestCleanupSweepsWhatAFailedAttemptLeft(t *testing.T) {
	v1 := testutil.RPMBuild(t, testutil.SimpleSpec("app", "1", "1"))
	v2 := testutil.RPMBuild(t, testutil.SimpleSpec("app", "2", "1"))
	for _, p := range slices.Concat(v1, v2) {
		if err := signer(t).SignRPM(p); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	clk := newClock()
	cfg := Config{Now: clk.Now, Window: time.Hour}
	p := newPublisher(t, dirStore(t, base), cfg)
	mustPublish(t, p, ChangeSet{Add: v1})
	before := files(t, base)

	_, err := newPublisher(t, failKey{dirStore(t, base), RepomdAscKey}, cfg).Publish(context.Background(), ChangeSet{Add: v2})
	if !errors.Is(err, errKilled) {
		t.Fatalf("publish with a failing repomd.xml.asc write: %v, want the injected failure", err)
	}
	var left []string
	for _, f := range files(t, base) {
		if !slices.Contains(before, f) && (strings.HasPrefix(f, "repodata/") || strings.HasPrefix(f, "Packages/")) {
			left = append(left, f)
		}
	}
	if !slices.ContainsFunc(left, func(f string) bool { return strings.HasSuffix(f, "app-2-1.el8.noarch.rpm") }) ||
		!slices.ContainsFunc(left, func(f string) bool { return strings.HasSuffix(f, "-primary.xml.zst") }) {
		t.Fatalf("the failed attempt left %v, want its package and primary", left)
	}

	if _, err := p.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if now := files(t, base); !containsAll(now, left) {
		t.Fatalf("cleanup inside the window deleted an attempt's files: left %v, now %v", left, now)
	}

	clk.Advance(2 * time.Hour)
	n, err := p.Cleanup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	after := files(t, base)
	for _, f := range left {
		if slices.Contains(after, f) {
			t.Errorf("%s still there after the window", f)
		}
	}
	if n < len(left) || !containsAll(after, before) {
		t.Errorf("cleanup deleted %d files; before %v, after %v", n, before, after)
	}
	if _, err := fetch(storeGetter(dirStore(t, base)), signer(t).Key().Keyring(), true); err != nil {
		t.Errorf("repository after the sweep: %v", err)
	}
}

// files lists a dir store's keys.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		if !strings.HasPrefix(filepath.Base(rel), ".") || strings.HasPrefix(rel, ".kabiforge/") {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}
