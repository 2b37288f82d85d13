package build

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// A build stages its work in a private folder under the builder's WorkDir
// (rpmbuild's topdir, mock's staging dir), removed when the build ends. A
// build host killed mid-build (SIGKILL, the OOM killer, power) leaves that
// folder behind, with the build's module-signing key in it when it had one.
// So a build holds a lock on its folder while it runs, and each new build
// first removes the folders of its kind that no build holds.

// staleAfter is how old an unlocked folder must be to be removed: a folder
// is locked just after it is made, and the age keeps a sweep from taking
// one in between.
const staleAfter = time.Minute

// scratchDir makes a folder for one build under dir (the system's temporary
// folder when empty) named prefix and a random suffix, after removing the
// stale ones of that prefix, and locks it. release unlocks it; the caller
// removes the folder before.
func scratchDir(dir, prefix string) (path string, release func(), err error) {
	sweepScratch(dir, prefix, time.Now())
	path, err = os.MkdirTemp(dir, prefix)
	if err != nil {
		return "", nil, err
	}
	release, err = lockDir(path)
	if err != nil {
		os.RemoveAll(path)
		return "", nil, err
	}
	return path, release, nil
}

// sweepScratch removes the folders under dir named prefix… that are older
// than staleAfter and that no build holds. It is best effort: what it
// cannot remove, it leaves.
func sweepScratch(dir, prefix string, now time.Time) {
	if dir == "" {
		dir = os.TempDir()
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range entries {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		fi, err := e.Info()
		if err != nil || now.Sub(fi.ModTime()) < staleAfter {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if held(path) {
			continue
		}
		os.RemoveAll(path)
	}
}
