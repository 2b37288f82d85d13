package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/store"
)

var (
	keyOnce sync.Once
	testKey *sign.Key
)

// signer returns a signer with one Ed25519 key shared by the package's tests.
func signer(t testing.TB) *sign.Signer {
	keyOnce.Do(func() {
		k, err := sign.Generate("kabiforge publish test", "publish@kabiforge.invalid", sign.Ed25519)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return sign.NewSigner(testKey)
}

// clock is an adjustable time source.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Now()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func dirStore(t testing.TB, dir string) store.Store {
	t.Helper()
	s, err := store.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newPublisher(t testing.TB, s store.Store, cfg Config) *Publisher {
	t.Helper()
	if cfg.Name == "" {
		cfg.Name = "test"
	}
	if cfg.Signer == nil {
		cfg.Signer = signer(t)
	}
	cfg.TempDir = t.TempDir()
	p, err := New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustPublish(t testing.TB, p *Publisher, cs ChangeSet) *Result {
	t.Helper()
	res, err := p.Publish(context.Background(), cs)
	if err != nil {
		t.Fatalf("publish %v: %v", cs, err)
	}
	return res
}

// multiSpec returns a spec whose build makes the noarch packages
// <name>-<sub> for each sub, all of version-release.
func multiSpec(name, version, release string, subs ...string) string {
	spec := fmt.Sprintf(`Name: %s
Version: %s
Release: %s
Summary: kabiforge publish test
License: MIT
BuildArch: noarch
AutoReqProv: no

%%description
Test packages.

%%install
`, name, version, release)
	for _, s := range subs {
		spec += fmt.Sprintf("mkdir -p %%{buildroot}/usr/share/%s-%s\necho %s > %%{buildroot}/usr/share/%s-%s/f\n", name, s, s, name, s)
	}
	for _, s := range subs {
		spec += fmt.Sprintf("\n%%package %s\nSummary: %s\n%%description %s\nsub\n%%files %s\n/usr/share/%s-%s/f\n", s, s, s, s, name, s)
	}
	return spec
}

// getter reads one file of a repository the way a client does.
type getter func(key string) ([]byte, error)

func storeGetter(s store.Store) getter {
	return func(key string) ([]byte, error) {
		b, _, err := getAll(context.Background(), s, key)
		if err == nil && b == nil {
			return nil, fmt.Errorf("%s: %w", key, store.ErrNotExist)
		}
		return b, err
	}
}

// httpGetter reads from an HTTP server with a client of its own (its own
// connections), as one dnf process does.
func httpGetter(base string) getter {
	client := &http.Client{Transport: &http.Transport{}}
	return func(key string) ([]byte, error) {
		resp, err := client.Get(base + "/" + key)
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("GET %s: %s", key, resp.Status)
		}
		return io.ReadAll(resp.Body)
	}
}

// fetchResult is what one client-like metadata fetch saw.
type fetchResult struct {
	revision string
	packages []string // NEVRAs
	// firstOnly is the error a client checking only the first signature
	// (librepo 1.14) would have met; nil when it would have passed.
	firstOnly error
}

// fetch does what dnf does to read metadata: GET repomd.xml, GET
// repomd.xml.asc, verify the signature, GET every file repomd.xml names
// and check its size and checksum; with pkgs, also every package primary
// lists.
func fetch(get getter, kr *sign.Keyring, pkgs bool) (*fetchResult, error) {
	repomd, err := get(RepomdKey)
	if err != nil {
		return nil, err
	}
	asc, err := get(RepomdAscKey)
	if err != nil {
		return nil, err
	}
	if err := sigfile.VerifyAny(kr, repomd, asc); err != nil {
		return nil, fmt.Errorf("repomd.xml.asc: %w", err)
	}
	res := &fetchResult{firstOnly: sigfile.VerifyFirst(kr, repomd, asc)}
	md, err := repodata.DecodeRepomd(bytes.NewReader(repomd))
	if err != nil {
		return nil, err
	}
	res.revision = md.Revision
	for _, d := range md.Data {
		b, err := get(d.Location)
		if err != nil {
			return nil, err
		}
		if got := sha(b); got != d.Checksum || int64(len(b)) != d.Size {
			return nil, fmt.Errorf("%s: checksum %s, size %d; repomd.xml says %s, %d", d.Location, got, len(b), d.Checksum, d.Size)
		}
		if d.Type != "primary" {
			continue
		}
		zr, err := repodata.Decompress(bytes.NewReader(b))
		if err != nil {
			return nil, err
		}
		list, err := repodata.DecodePrimary(zr)
		if err != nil {
			return nil, err
		}
		for _, p := range list {
			res.packages = append(res.packages, p.NEVRA())
			if !pkgs {
				continue
			}
			b, err := get(p.Location)
			if err != nil {
				return nil, err
			}
			if got := sha(b); got != p.Checksum {
				return nil, fmt.Errorf("%s: checksum %s, primary says %s", p.Location, got, p.Checksum)
			}
		}
	}
	sort.Strings(res.packages)
	return res, nil
}

func sha(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// faultStore fails its failAt-th write (Put, PutIfAbsent, CompareAndSwap,
// Delete), counting from 1; 0 fails none. It records every write's key.
type faultStore struct {
	store.Store
	failAt int
	mu     sync.Mutex
	writes []string
	failed string
}

var errInjected = errors.New("injected write failure")

func (f *faultStore) write(key string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes = append(f.writes, key)
	if len(f.writes) == f.failAt {
		f.failed = key
		return fmt.Errorf("%s: %w", key, errInjected)
	}
	return nil
}

func (f *faultStore) Put(ctx context.Context, key string, r io.Reader) (store.Info, error) {
	if err := f.write(key); err != nil {
		return store.Info{}, err
	}
	return f.Store.Put(ctx, key, r)
}

func (f *faultStore) PutIfAbsent(ctx context.Context, key string, r io.Reader) (store.Info, error) {
	if err := f.write(key); err != nil {
		return store.Info{}, err
	}
	return f.Store.PutIfAbsent(ctx, key, r)
}

func (f *faultStore) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (store.Info, error) {
	if err := f.write(key); err != nil {
		return store.Info{}, err
	}
	return f.Store.CompareAndSwap(ctx, key, version, r)
}

func (f *faultStore) Delete(ctx context.Context, key string) error {
	if err := f.write(key); err != nil {
		return err
	}
	return f.Store.Delete(ctx, key)
}

// copyDir copies a directory tree (a dir store's folder).
func copyDir(t testing.TB, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if err := os.WriteFile(target, b, 0o644); err != nil {
			return err
		}
		return os.Chtimes(target, info.ModTime(), info.ModTime())
	})
	if err != nil {
		t.Fatal(err)
	}
}

// dnfInstall installs pkgs from the repository in dir into a fresh
// installroot with gpgcheck and repo_gpgcheck on and returns the NEVRAs
// installed.
func dnfInstall(t testing.TB, dir string, pkgs ...string) []string {
	t.Helper()
	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "test", BaseURL: "file://" + dir, GPGKey: "file://" + filepath.Join(dir, KeyFileKey("test"))})
	out, err := root.Install(pkgs...)
	if err != nil {
		t.Fatalf("dnf install %v from %s: %v\n%s", pkgs, dir, err, out)
	}
	return root.Installed(t)
}

var _ = atomic.Int64{}
