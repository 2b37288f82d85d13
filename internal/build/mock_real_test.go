//go:build mock

// Tests against real mock: go test -tags mock ./internal/build/ on a host (or
// in the worker image, see README.md) where mock runs. They need network
// access for the template's repositories. KABIFORGE_MOCK_TEMPLATE picks the
// template, centos-stream-9-x86_64 by default; KABIFORGE_MOCK_ISOLATION the
// isolation, simple by default (nspawn needs a privileged container).
package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

func realMock(t *testing.T) *Mock {
	t.Helper()
	testutil.RequireTool(t, "mock")
	return &Mock{Template: or(os.Getenv("KABIFORGE_MOCK_TEMPLATE"), "centos-stream-9-x86_64"),
		Isolation: or(os.Getenv("KABIFORGE_MOCK_ISOLATION"), "simple")}
}

func TestRealMockBuildsKernelThenKmodAgainstIt(t *testing.T) {
	m := realMock(t)
	ctx := context.Background()
	k := demo.BaseKernel()
	srpm, err := demo.KernelSRPM(t.TempDir(), k)
	if err != nil {
		t.Fatal(err)
	}
	var got lines
	kres, err := m.Build(ctx, Request{SRPM: srpm, Arch: "x86_64", ResultDir: t.TempDir(), OnLog: got.add, Timeout: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	if len(kres.RPMs) != 4 || !got.has("Wrote:") {
		t.Fatalf("kernel result %+v; streamed Wrote: %v", kres, got.has("Wrote:"))
	}
	for _, want := range []string{"build.log", "root.log", "state.log"} {
		if !slices.ContainsFunc(kres.Logs, func(l string) bool { return filepath.Base(l) == want }) {
			t.Errorf("no %s in %v", want, kres.Logs)
		}
	}
	repo := t.TempDir()
	copyInto(t, repo, kres.RPMs...)
	createrepo(t, repo)

	ksrpm, err := demo.KmodSRPM(t.TempDir(), demo.Kmods(k.NVR)[1])
	if err != nil {
		t.Fatal(err)
	}
	mres, err := m.Build(ctx, Request{SRPM: ksrpm, Arch: "x86_64", ResultDir: t.TempDir(),
		Repos: []Repo{{Name: "kabiforge-kernel", URL: "file://" + repo}}})
	if err != nil {
		t.Fatal(err)
	}
	sym, _ := k.Symbol(demo.FragileSymbol)
	want := fmt.Sprintf("kernel(%s) = 0x%08x", demo.FragileSymbol, sym.CRC)
	if !slices.Contains(requires(t, mres.RPMs[0]), want) {
		t.Errorf("kmod lacks %q", want)
	}
}

func TestRealMockFailureTypes(t *testing.T) {
	m := realMock(t)
	_, err := m.Build(context.Background(), Request{SRPM: specSRPM(t, "fails.spec"), Arch: "x86_64", ResultDir: t.TempDir()})
	var pe *PackageError
	if !errors.As(err, &pe) || !strings.Contains(strings.Join(pe.Tail, "\n"), "kabiforge-fails-marker") {
		t.Errorf("failing spec: err = %v, want a PackageError with the marker in its tail", err)
	}
	_, err = m.Build(context.Background(), Request{SRPM: specSRPM(t, "missing-br.spec"), Arch: "x86_64", ResultDir: t.TempDir()})
	var de *DependencyError
	if !errors.As(err, &de) || !slices.Contains(de.Missing, "kabiforge-no-such-devel >= 2.0") {
		t.Errorf("missing BuildRequires: err = %v, want a DependencyError naming it", err)
	}
}

func TestRealMockCancel(t *testing.T) {
	m := realMock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	var got lines
	go func() {
		for !got.has("kabiforge-sleeps: sleeping") {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
	}()
	start := time.Now()
	_, err := m.Build(ctx, Request{SRPM: specSRPM(t, "sleeps.spec"), Arch: "x86_64", ResultDir: t.TempDir(), OnLog: got.add})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	for deadline := time.Now().Add(5 * time.Second); countProcs(t, "61.4321") > 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("build processes survive the cancel")
		}
	}
}
