package build

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// A build killed mid-build leaves its folder (and maybe its signing key):
// the next build removes it, but never one a running build holds, nor one
// just made (not locked yet), nor a folder of another kind.
func TestScratchSweepsWhatKilledBuildsLeft(t *testing.T) {
	dir := t.TempDir()
	old := time.Now().Add(-2 * staleAfter)
	folder := func(name string, age time.Time) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Join(p, "SOURCES"), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(p, "SOURCES", "signing_key.pem"), []byte("key"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, age, age); err != nil {
			t.Fatal(err)
		}
		return p
	}
	killed := folder("kabiforge-rpmbuild-killed", old)
	running := folder("kabiforge-rpmbuild-running", old)
	release, err := lockDir(running)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	fresh := folder("kabiforge-rpmbuild-fresh", time.Now())
	other := folder("kabiforge-mock-killed", old)

	path, done, err := scratchDir(dir, "kabiforge-rpmbuild-")
	if err != nil {
		t.Fatal(err)
	}
	defer done()

	for p, want := range map[string]bool{killed: false, running: true, fresh: true, other: true, path: true} {
		if _, err := os.Stat(p); (err == nil) != want {
			t.Errorf("%s: exists %v, want %v", filepath.Base(p), err == nil, want)
		}
	}
	// The new folder is held: another build's sweep leaves it, even old.
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	sweepScratch(dir, "kabiforge-rpmbuild-", time.Now())
	if _, err := os.Stat(path); err != nil {
		t.Errorf("a held folder was swept: %v", err)
	}
	done()
	sweepScratch(dir, "kabiforge-rpmbuild-", time.Now())
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("a released old folder was kept (%v)", err)
	}
}
