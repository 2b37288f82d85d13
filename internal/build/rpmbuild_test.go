package build

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

func TestRpmbuildBuildsTheDemoKernel(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	srpm, err := demo.KernelSRPM(t.TempDir(), demo.BaseKernel())
	if err != nil {
		t.Fatal(err)
	}
	var got lines
	out := filepath.Join(t.TempDir(), "result")
	res, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: srpm, Arch: "x86_64", ResultDir: out, OnLog: got.add})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range res.RPMs {
		names = append(names, filepath.Base(p))
	}
	want := []string{
		"kernel-4.18.0-80.el8.x86_64.rpm", "kernel-abi-stablelists-4.18.0-80.el8.noarch.rpm",
		"kernel-core-4.18.0-80.el8.x86_64.rpm", "kernel-devel-4.18.0-80.el8.x86_64.rpm",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Errorf("RPMs = %v, want %v", names, want)
	}
	if filepath.Base(res.SRPM) != "kernel-4.18.0-80.el8.src.rpm" || filepath.Dir(res.SRPM) != out {
		t.Errorf("SRPM = %s", res.SRPM)
	}
	if len(res.Logs) != 1 || res.Duration <= 0 {
		t.Errorf("logs %v, duration %v", res.Logs, res.Duration)
	}
	log, err := os.ReadFile(res.Logs[0])
	if err != nil || !strings.Contains(string(log), "Wrote: ") {
		t.Errorf("build.log lacks rpmbuild's output (err %v)", err)
	}
	if !got.has("Wrote: ") || !got.has("+ rpmbuild -bb") {
		t.Error("OnLog did not see rpmbuild's output")
	}
}

func TestFailingSpecIsAPackageFailureWithTheLogTail(t *testing.T) {
	srpm := specSRPM(t, "fails.spec")
	_, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: srpm, ResultDir: t.TempDir()})
	var pe *PackageError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v (%T), want *PackageError", err, err)
	}
	if Retryable(err) {
		t.Error("package failure is retryable")
	}
	if len(pe.Tail) != TailLines {
		t.Errorf("tail has %d lines, want %d", len(pe.Tail), TailLines)
	}
	if !strings.Contains(strings.Join(pe.Tail, "\n"), "kabiforge-fails-marker") {
		t.Errorf("tail lacks the failure:\n%s", strings.Join(pe.Tail, "\n"))
	}
	if !strings.Contains(pe.Reason, "status 1") {
		t.Errorf("reason = %q", pe.Reason)
	}
}

func TestMissingBuildRequiresIsADependencyFailure(t *testing.T) {
	srpm := specSRPM(t, "missing-br.spec")
	repo := buildKernel(t, demo.BaseKernel())
	_, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: srpm, ResultDir: t.TempDir(),
		Repos: []Repo{{Name: "kernel", URL: "file://" + repo}}})
	var de *DependencyError
	if !errors.As(err, &de) {
		t.Fatalf("err = %v (%T), want *DependencyError", err, err)
	}
	if strings.Join(de.Missing, ",") != "kabiforge-no-such-devel >= 2.0" || Retryable(err) {
		t.Errorf("missing = %q (kernel-devel must resolve from the repo)", de.Missing)
	}
}

func TestTimeLimitIsAPackageFailure(t *testing.T) {
	srpm := specSRPM(t, "sleeps.spec")
	start := time.Now()
	_, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: srpm, ResultDir: t.TempDir(), Timeout: time.Second})
	var pe *PackageError
	if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "time limit 1s exceeded") {
		t.Fatalf("err = %v, want a time-limit PackageError", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestCancelStopsTheWholeProcessGroup(t *testing.T) {
	srpm := specSRPM(t, "sleeps.spec")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sleeping := make(chan struct{})
	var once bool
	onLog := func(l string) {
		if !once && strings.Contains(l, "kabiforge-sleeps: sleeping") {
			once = true
			close(sleeping)
		}
	}
	done := make(chan error, 1)
	go func() {
		_, err := new(Rpmbuild).Build(ctx, Request{SRPM: srpm, ResultDir: t.TempDir(), OnLog: onLog})
		done <- err
	}()
	select {
	case <-sleeping:
	case err := <-done:
		t.Fatalf("build ended before cancel: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("build never reached its build step")
	}
	for wait := time.Now(); countProcs(t, "61.4321") < 3; time.Sleep(10 * time.Millisecond) {
		if time.Since(wait) > 5*time.Second {
			t.Fatalf("%d sleeps running before cancel, want at least 3", countProcs(t, "61.4321"))
		}
	}
	cancel()
	start := time.Now()
	var err error
	select {
	case err = <-done:
	case <-time.After(2 * time.Second):
		t.Fatal("build still running 2s after cancel")
	}
	if !errors.Is(err, context.Canceled) || Retryable(err) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	for countProcs(t, "61.4321") > 0 {
		if time.Since(start) > 2*time.Second {
			t.Fatalf("%d build processes remain 2s after cancel", countProcs(t, "61.4321"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// countProcs counts live processes whose command line contains marker.
func countProcs(t *testing.T, marker string) int {
	t.Helper()
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	n := 0
	for _, d := range dirs {
		cmd, err := os.ReadFile(filepath.Join(d, "cmdline"))
		if err != nil || !strings.Contains(string(cmd), marker) {
			continue
		}
		stat, _ := os.ReadFile(filepath.Join(d, "stat"))
		if f := strings.Fields(string(stat)); len(f) > 2 && f[2] == "Z" {
			continue // a zombie is dead already, waiting for its parent
		}
		n++
	}
	return n
}
