package kftest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
)

// Modules builds the out-of-tree module sources in srcDir against tree
// with kernelfamily.BuildModule and returns the .ko files, keyed by file
// name (hello.ko). Builds are cached under the user cache dir keyed by the
// tree's ABI and the sources' contents, so only the first test process on a
// machine compiles. The files are shared: a test that changes one copies it
// first.
func Modules(t testing.TB, tree *kernelfamily.Tree, srcDir string) map[string]string {
	t.Helper()
	sum, err := sourceSum(srcDir)
	if err != nil {
		t.Fatalf("module sources %s: %v", srcDir, err)
	}
	base, err := kernelfamily.DefaultCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "modules", tree.ABI+"-"+filepath.Base(srcDir)+"-"+sum)
	if kos := builtModules(dir); len(kos) > 0 {
		return kos
	}
	tmp := buildDir(t, dir)
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	start := time.Now()
	kos, err := kernelfamily.BuildModule(ctx, tree, srcDir, filepath.Join(tmp, "build"))
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("built %d modules of %s for %s in %s", len(kos), srcDir, tree.ABI, time.Since(start).Round(time.Second))
	out := filepath.Join(tmp, "out")
	if err := os.Mkdir(out, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, ko := range kos {
		if err := os.Rename(ko, filepath.Join(out, filepath.Base(ko))); err != nil {
			t.Fatal(err)
		}
	}
	// Publish by rename; a concurrent process may have published first.
	if err := os.Rename(out, dir); err != nil && len(builtModules(dir)) == 0 {
		t.Fatal(err)
	}
	return builtModules(dir)
}

// builtModules lists a finished build's .ko files by file name.
func builtModules(dir string) map[string]string {
	paths, _ := filepath.Glob(filepath.Join(dir, "*.ko"))
	if len(paths) == 0 {
		return nil
	}
	out := make(map[string]string, len(paths))
	for _, p := range paths {
		out[filepath.Base(p)] = p
	}
	return out
}

// sourceSum hashes the names and contents of the regular files under dir.
func sourceSum(dir string) (string, error) {
	var files []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	h := sha256.New()
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			return "", err
		}
		rel, _ := filepath.Rel(dir, p)
		fmt.Fprintf(h, "%q %d\n", rel, len(data))
		h.Write(data)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}
