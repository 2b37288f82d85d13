package kftest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// Builder returns the rpmbuild builder the real kernels and kmods are built
// with in tests.
func Builder() *build.Rpmbuild {
	return &build.Rpmbuild{BinaryPayload: demo.RealPayload, HostProvides: demo.RealHostProvides()}
}

// KernelRPMs returns the binary packages (kernel, kernel-core,
// kernel-modules, kernel-devel) and the source package of k, built with the
// rpmbuild builder. Built packages are cached under the user cache dir keyed
// by the spec and its sources, so only the first run of a test process on a
// machine pays for the build.
func KernelRPMs(t testing.TB, k demo.RealKernel) (rpms []string, srpm string) {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	spec, err := k.Spec()
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.New()
	sum.Write(spec)
	sum.Write([]byte(demo.RealPayload))
	for _, d := range k.Tree.Debs {
		sum.Write([]byte(filepath.Base(d)))
	}
	base, err := kernelfamily.DefaultCacheDir()
	if err != nil {
		testutil.Unavailable(t, "real kernel packages: %v", err)
	}
	dir := filepath.Join(base, "rpms", "kernel-"+k.NVR("")+"-"+hex.EncodeToString(sum.Sum(nil))[:12])
	if rpms, srpm, ok := cachedRPMs(dir); ok {
		return rpms, srpm
	}
	tmp := buildDir(t, dir)
	defer os.RemoveAll(tmp)
	src, err := demo.RealKernelSRPM(filepath.Join(tmp, "src"), k)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	start := time.Now()
	if _, err := Builder().Build(ctx, build.Request{SRPM: src, Arch: "x86_64", ResultDir: filepath.Join(tmp, "out")}); err != nil {
		t.Fatalf("build real kernel %s: %v", k.NVR(".el8"), err)
	}
	t.Logf("built real kernel %s in %s", k.NVR(".el8"), time.Since(start).Round(time.Second))
	if err := os.Rename(filepath.Join(tmp, "out"), dir); err != nil && !os.IsExist(err) {
		if _, statErr := os.Stat(dir); statErr != nil { // not built meanwhile by another process
			t.Fatal(err)
		}
	}
	rpms, srpm, ok := cachedRPMs(dir)
	if !ok {
		t.Fatalf("real kernel %s: no packages in %s", k.NVR(".el8"), dir)
	}
	return rpms, srpm
}

// cachedRPMs lists a finished build's packages.
func cachedRPMs(dir string) (rpms []string, srpm string, ok bool) {
	all, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
	for _, p := range all {
		if strings.HasSuffix(p, ".src.rpm") {
			srpm = p
		} else {
			rpms = append(rpms, p)
		}
	}
	return rpms, srpm, len(rpms) > 0 && srpm != ""
}

// buildDir makes a temporary directory beside the cache entry dir, where a
// build is made before it is published as dir by rename.
func buildDir(t testing.TB, dir string) string {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), ".build-")
	if err != nil {
		t.Fatal(err)
	}
	return tmp
}

// kabiforgeBin is the kabiforge binary built once per test process.
var kabiforgeBin struct {
	once sync.Once
	path string
	err  error
}

// Kabiforge returns a kabiforge binary built from this tree once per test
// process: kmod specs run it as their dependency generator (%__kabiforge).
func Kabiforge(t testing.TB) string {
	t.Helper()
	kabiforgeBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "kftest-kabiforge-")
		if err != nil {
			kabiforgeBin.err = err
			return
		}
		// Readable by all: a mock buildroot's unprivileged user runs it
		// from a bind mount of dir.
		if err := os.Chmod(dir, 0o755); err != nil {
			kabiforgeBin.err = err
			return
		}
		path := filepath.Join(dir, "kabiforge")
		if err := testutil.BuildKabiforge(path); err != nil {
			kabiforgeBin.err = err
			return
		}
		kabiforgeBin.path = path
	})
	if kabiforgeBin.err != nil {
		t.Fatal(kabiforgeBin.err)
	}
	return kabiforgeBin.path
}

// KmodBuilder is Builder with %__kabiforge set to Kabiforge's binary, so
// the real kmod specs' dependency generator runs.
func KmodBuilder(t testing.TB) *build.Rpmbuild {
	b := Builder()
	b.Macros = map[string]string{"__kabiforge": Kabiforge(t)}
	return b
}
