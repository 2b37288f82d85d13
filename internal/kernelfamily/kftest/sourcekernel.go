package kftest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// SourceKernelHostProvides are the BuildRequires of the source kernel's spec
// beyond demo.RealHostProvides, which the host satisfies (ensure-tools.sh
// installs them) when the rpmbuild builder builds it.
func SourceKernelHostProvides() []string {
	return append(demo.RealHostProvides(), "flex", "bison", "bc", "openssl", "openssl-devel")
}

// SourceKernelBuilder is KmodBuilder that also builds the source kernel.
func SourceKernelBuilder(t testing.TB) *build.Rpmbuild {
	b := KmodBuilder(t)
	b.HostProvides = SourceKernelHostProvides()
	return b
}

// SourceKernel returns release 1 of the source kernel compiled from the
// installed linux-source-6.1 (demo.SourceKernel); a missing package is
// Unavailable.
func SourceKernel(t testing.TB) demo.SourceKernel {
	t.Helper()
	testutil.RequireTool(t, "dpkg-query")
	src, err := demo.FindLinuxSource(context.Background())
	if err != nil {
		testutil.Unavailable(t, "source kernel: %v", err)
	}
	return demo.SourceKernel{Source: src, Release: "1"}
}

// ModuleKey returns the module-signing key tests build the source kernel
// with: generated once per machine and kept in the user cache dir beside
// the cached kernel packages, whose trusted key it is, so that the kernel
// compiled with its certificate stays valid between test runs. A test key,
// never a repository's.
func ModuleKey(t testing.TB) *modsign.Key {
	t.Helper()
	base, err := kernelfamily.DefaultCacheDir()
	if err != nil {
		testutil.Unavailable(t, "module-signing test key: %v", err)
	}
	dir := filepath.Join(base, "sourcekernel-key")
	files := modsign.FileNames(dir, "test")
	if key, err := modsign.LoadKey(files.Private, files.Cert); err == nil {
		return key
	}
	key, err := modsign.Generate("kabiforge test Secure Boot", 2048)
	if err != nil {
		t.Fatal(err)
	}
	// Written in a directory of its own, published by rename: a concurrent
	// test process either wins or loads the winner's key.
	tmp := buildDir(t, dir)
	defer os.RemoveAll(tmp)
	if _, err := key.WriteFiles(tmp, "test"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, dir); err != nil {
		if key, err := modsign.LoadKey(files.Private, files.Cert); err == nil {
			return key
		}
		t.Fatalf("module-signing test key: %v", err)
	}
	return key
}

// CachingBuilder is a build.Builder that remembers the results of builds
// whose source package's spec and sources, target arch, binary payload and
// module-signing certificate match an earlier build, under the user cache
// dir: the source kernel's compile takes many minutes, and its result
// depends on nothing else. Builds of other packages (Cache false) go
// straight to Builder.
type CachingBuilder struct {
	Builder *build.Rpmbuild
	// Cache reports whether the build of a source package should be
	// cached.
	Cache func(*rpm.Package) bool
	// Log, when set, receives a line per build saying whether it was cached
	// and how long it took.
	Log func(format string, args ...any)
	// Dir holds the cached builds; empty means rpms/ in the user cache dir.
	Dir string
	mu  sync.Mutex
}

// Build implements build.Builder.
func (c *CachingBuilder) Build(ctx context.Context, req build.Request) (build.Result, error) {
	src, err := rpm.Open(req.SRPM)
	if err != nil || !c.Cache(src) {
		return c.Builder.Build(ctx, req)
	}
	c.mu.Lock() // one kernel compile at a time on a shared machine
	defer c.mu.Unlock()
	base := c.Dir
	if base == "" {
		cache, err := kernelfamily.DefaultCacheDir()
		if err != nil {
			return build.Result{}, err
		}
		base = filepath.Join(cache, "rpms")
	}
	dir := filepath.Join(base, src.NEVRA.NVR()+"-"+c.key(src, req))
	if rpms, srpm, ok := cachedRPMs(dir); ok {
		c.logf("%s: cached build in %s", src.NEVRA.NVR(), dir)
		return copyResult(rpms, srpm, req.ResultDir)
	}
	start := time.Now()
	res, err := c.Builder.Build(ctx, req)
	if err != nil {
		return res, err
	}
	c.logf("%s: built in %s", src.NEVRA.NVR(), time.Since(start).Round(time.Second))
	if err := storeResult(res, dir); err != nil {
		c.logf("%s: not cached: %v", src.NEVRA.NVR(), err)
	}
	return res, nil
}

func (c *CachingBuilder) logf(format string, args ...any) {
	if c.Log != nil {
		c.Log(format, args...)
	}
}

// key hashes what decides the build's result.
func (c *CachingBuilder) key(src *rpm.Package, req build.Request) string {
	sum := sha256.New()
	files := slices.Clone(src.Files)
	slices.SortFunc(files, func(a, b rpm.File) int { return strings.Compare(a.Path, b.Path) })
	for _, f := range files {
		fmt.Fprintf(sum, "%s %s\n", f.Path, f.Digest)
	}
	fmt.Fprintf(sum, "arch %s payload %s dist %s\n", req.Arch, c.Builder.BinaryPayload, c.Builder.Dist)
	if ms := req.ModuleSigning; ms != nil {
		fmt.Fprintf(sum, "cert %x\n", sha256.Sum256(ms.Cert))
	}
	return hex.EncodeToString(sum.Sum(nil))[:16]
}

// storeResult copies a build's packages into the cache entry dir, published
// by rename.
func storeResult(res build.Result, dir string) error {
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		return err
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	for _, p := range append(slices.Clone(res.RPMs), res.SRPM) {
		if err := demo.LinkOrCopy(p, filepath.Join(tmp, filepath.Base(p))); err != nil {
			return err
		}
	}
	if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(dir); statErr != nil {
			return err
		}
	}
	return nil
}

// copyResult copies cached packages into the build's result dir.
func copyResult(rpms []string, srpm, resultDir string) (build.Result, error) {
	if err := os.MkdirAll(resultDir, 0o755); err != nil {
		return build.Result{}, err
	}
	var res build.Result
	for _, p := range append(slices.Clone(rpms), srpm) {
		dst := filepath.Join(resultDir, filepath.Base(p))
		if err := demo.LinkOrCopy(p, dst); err != nil {
			return build.Result{}, err
		}
		if p == srpm {
			res.SRPM = dst
		} else {
			res.RPMs = append(res.RPMs, dst)
		}
	}
	slices.Sort(res.RPMs)
	return res, nil
}

// SourceKernelRPMs returns the binary packages and source package of k
// built the way the pipeline builds a kernel: the rpmbuild builder with
// key as the build's module signing (the certificate reaches the spec as
// %pubkey), cached by CachingBuilder.
func SourceKernelRPMs(t testing.TB, k demo.SourceKernel, key *modsign.Key) (rpms []string, srpm string) {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	for _, tool := range []string{"gcc", "make", "flex", "bison", "bc", "openssl"} {
		testutil.RequireTool(t, tool)
	}
	priv, err := key.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	src := SourceKernelSRPM(t, k)
	cb := &CachingBuilder{Builder: SourceKernelBuilder(t), Cache: IsSourceKernel, Log: t.Logf}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Minute)
	defer cancel()
	res, err := cb.Build(ctx, build.Request{SRPM: src, Arch: "x86_64", ResultDir: filepath.Join(tmp, "out"),
		ModuleSigning: &build.ModuleSigning{Key: priv, Cert: key.CertificateDER(), Command: SignCommand(t)}})
	if err != nil {
		var pe *build.PackageError
		if errors.As(err, &pe) {
			t.Logf("build log, last lines:\n%s", strings.Join(pe.Tail, "\n"))
		}
		t.Fatalf("build source kernel %s: %v", k.NVR(".el8"), err)
	}
	return res.RPMs, res.SRPM
}

// IsSourceKernel reports whether src is a source kernel's source package
// (it carries minimal.config).
func IsSourceKernel(src *rpm.Package) bool {
	if src.NEVRA.Name != "kernel" {
		return false
	}
	return slices.ContainsFunc(src.Files, func(f rpm.File) bool { return filepath.Base(f.Path) == "minimal.config" })
}

// SignCommand is the in-build signer the worker runs (its own binary's
// `modsign sign-buildroot`), as Kabiforge's binary.
func SignCommand(t testing.TB) []string {
	return []string{Kabiforge(t), "modsign", "sign-buildroot"}
}

// SourceKernelSRPM returns k's source package, made once per machine and
// kept in the user cache dir keyed by its spec, configuration and
// linux-source version: it carries the 130 MB tarball.
func SourceKernelSRPM(t testing.TB, k demo.SourceKernel) string {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	spec, err := k.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	sum.Write(spec)
	sum.Write(demo.SourceKernelConfig())
	fmt.Fprintf(sum, "%s %s\n", k.Source.DebVersion, k.Source.Tarball)
	base, err := kernelfamily.DefaultCacheDir()
	if err != nil {
		testutil.Unavailable(t, "source kernel: %v", err)
	}
	dir := filepath.Join(base, "srpms", "kernel-"+k.NVR("")+"-"+hex.EncodeToString(sum.Sum(nil))[:12])
	if found, _ := filepath.Glob(filepath.Join(dir, "*.src.rpm")); len(found) == 1 {
		return found[0]
	}
	tmp := buildDir(t, dir)
	defer os.RemoveAll(tmp)
	if _, err := demo.SourceKernelSRPM(filepath.Join(tmp, "out"), k); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(tmp, "out"), dir); err != nil {
		if _, statErr := os.Stat(dir); statErr != nil {
			t.Fatal(err)
		}
	}
	found, _ := filepath.Glob(filepath.Join(dir, "*.src.rpm"))
	if len(found) != 1 {
		t.Fatalf("source kernel: want one SRPM in %s, found %v", dir, found)
	}
	return found[0]
}
