package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/store"
)

// buildSRPM makes a real source package name-version-release.el8.src.rpm
// with testutil.RPMBuildSRPM, moves it into dir and returns its path.
func buildSRPM(t testing.TB, dir, name, version, release string) string {
	t.Helper()
	srpm := testutil.RPMBuildSRPM(t, testutil.SimpleSpec(name, version, release))
	p := filepath.Join(dir, fmt.Sprintf("%s-%s-%s.el8.src.rpm", name, version, release))
	if filepath.Base(srpm) != filepath.Base(p) {
		t.Fatalf("rpmbuild -bs made %s, want %s", srpm, filepath.Base(p))
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(srpm, p); err != nil {
		t.Fatal(err)
	}
	return p
}

var testKeys = struct {
	sync.Mutex
	m map[string]*sign.Key
}{m: map[string]*sign.Key{}}

// testKey returns an Ed25519 key generated once per test binary and name.
func testKey(t testing.TB, name string) *sign.Key {
	t.Helper()
	testKeys.Lock()
	defer testKeys.Unlock()
	if k := testKeys.m[name]; k != nil {
		return k
	}
	k, err := sign.Generate(name, name+"@kabiforge.invalid", sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	testKeys.m[name] = k
	return k
}

// signedSRPMRepo builds SRPMs of the given names (version 1.0, release 1),
// signs them with the "upstream" test key and indexes the folder as rpm-md.
func signedSRPMRepo(t testing.TB, names ...string) string {
	t.Helper()
	dir := t.TempDir()
	s := sign.NewSigner(testKey(t, "upstream"))
	for _, n := range names {
		if err := s.SignRPM(buildSRPM(t, dir, n, "1.0", "1")); err != nil {
			t.Fatal(err)
		}
	}
	index(t, dir)
	return dir
}

func index(t testing.TB, dir string) {
	t.Helper()
	if _, err := repodata.Index(context.Background(), dir, repodata.Options{Compression: repodata.Gzip}); err != nil {
		t.Fatal(err)
	}
}

// createrepo indexes dir with createrepo_c, as a mirror would.
func createrepo(t testing.TB, dir string) {
	t.Helper()
	testutil.RequireTool(t, "createrepo_c")
	if out, err := exec.Command("createrepo_c", "--no-database", "--compress-type", "gz", dir).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c %s: %v\n%s", dir, err, out)
	}
}

func newSource(t testing.TB, cfg config.Source, opts Options) Source {
	t.Helper()
	if opts.Backoff == 0 {
		opts.Backoff = 1
	}
	src, err := New(context.Background(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return src
}

func list(t testing.TB, src Source) []Package {
	t.Helper()
	pkgs, err := src.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return pkgs
}

func find(t testing.TB, pkgs []Package, name string) Package {
	t.Helper()
	for _, p := range pkgs {
		if p.Name() == name {
			return p
		}
	}
	t.Fatalf("no package %s among %v", name, pkgs)
	return Package{}
}

func openStore(t testing.TB) *store.Dir {
	t.Helper()
	st, err := store.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// storedKeys lists every object in st.
func storedKeys(t testing.TB, st store.Store) []string {
	t.Helper()
	var keys []string
	for info, err := range st.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

func upstreamKeys(t testing.TB) *sign.Keyring { return testKey(t, "upstream").Keyring() }

// wantBadInput checks err is a *BadInputError with the reason, not retryable.
func wantBadInput(t testing.TB, err, reason error) {
	t.Helper()
	var bad *BadInputError
	if !errors.As(err, &bad) || !errors.Is(err, reason) {
		t.Fatalf("error %v (%T), want a *BadInputError for %v", err, err, reason)
	}
	if Retryable(err) {
		t.Fatalf("bad input %v is retryable", err)
	}
}

func sha256File(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

func regexpReplace(s, expr, repl string) string {
	return regexp.MustCompile(expr).ReplaceAllString(s, repl)
}
