package boot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// testConfig returns a Config for the host's QEMU and a freshly built init.
func testConfig(t testing.TB) Config {
	t.Helper()
	qemu := testutil.RequireTool(t, "qemu-system-x86_64")
	testutil.RequireTool(t, "go")
	init, err := BuildInit(context.Background(), filepath.Join(buildDir, "init"), "")
	if err != nil {
		t.Fatal(err)
	}
	return Config{QEMU: qemu, Init: init, Accel: AccelTCG, Timeout: 90 * time.Second}
}

// TestRunRefusesOtherABI boots the newest kernel of the real family with a
// module built for it and the same module built for an older ABI: the kernel
// refuses the older one with its own message and loads the other.
func TestRunRefusesOtherABI(t *testing.T) {
	cfg := testConfig(t)
	fam := realFamily(t)
	old, cur := fam.oldKo, fam.newKo
	res, err := Run(context.Background(), cfg, Request{
		Kernel:  fam.new.Vmlinuz(),
		Modules: []Module{{Name: "hello-old", Path: old}, {Name: "hello-new", Path: cur}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Booted {
		t.Fatalf("did not boot: %s\n%s", res.Failure, res.Console)
	}
	if res.Release != fam.new.Release {
		t.Errorf("release %q, want %s", res.Release, fam.new.Release)
	}
	refused, _ := res.Module("hello-old")
	if refused.Loaded || refused.Errno != 8 {
		t.Errorf("old-ABI module: %+v, want refused with errno 8 (ENOEXEC)", refused)
	}
	if want := "disagrees about version of symbol module_layout"; !strings.Contains(refused.Reason(), want) {
		t.Errorf("reason %q lacks the kernel's %q", refused.Reason(), want)
	}
	loaded, _ := res.Module("hello-new")
	if !loaded.Loaded || loaded.Errno != 0 || loaded.Reason() != "" {
		t.Errorf("same-ABI module: %+v, want loaded", loaded)
	}
	t.Logf("boot took %s under %s", res.Elapsed, res.Accel)
}

// TestRunEndsAVMWithoutACPI boots a kernel that cannot power off (ACPI off,
// as in a minimal kernel built without it): the init restarts it instead,
// and QEMU (-no-reboot) exits long before the time limit.
func TestRunEndsAVMWithoutACPI(t *testing.T) {
	cfg := testConfig(t)
	fam := realFamily(t)
	res, err := Run(context.Background(), cfg, Request{Kernel: fam.new.Vmlinuz(), Args: []string{"acpi=off"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Booted || res.Elapsed > cfg.Timeout/2 {
		t.Fatalf("booted %v in %s (limit %s): %s", res.Booted, res.Elapsed, cfg.Timeout, res.Failure)
	}
	if !strings.Contains(string(res.Console), "reboot: Restarting system") {
		t.Errorf("console lacks the kernel's restart:\n%s", lastLines(res.Console, 10))
	}
}

// lastLines returns the last n lines of a console log.
func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// TestRunKillsHungVM gives the kernel an init it cannot execute and asks it
// not to reboot on panic: the VM hangs and must be killed at the time limit,
// leaving no QEMU behind.
func TestRunKillsHungVM(t *testing.T) {
	cfg := testConfig(t)
	fam := realFamily(t)
	bad := filepath.Join(t.TempDir(), "init")
	if err := os.WriteFile(bad, []byte("not an executable\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.Init, cfg.Timeout = bad, 15*time.Second
	dir := t.TempDir()
	start := time.Now()
	res, err := Run(context.Background(), cfg, Request{Kernel: fam.new.Vmlinuz(), Args: []string{"panic=0"}, Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if res.Booted || !strings.Contains(res.Failure, "time limit") {
		t.Errorf("booted=%v failure=%q, want killed at the time limit", res.Booted, res.Failure)
	}
	if took := time.Since(start); took > cfg.Timeout+10*time.Second {
		t.Errorf("took %s with a %s limit", took, cfg.Timeout)
	}
	// On a loaded machine the kernel may not reach its panic within the
	// limit; what must hold is the kill, so the panic is only reported.
	t.Logf("console at the kill shows the panic: %v", strings.Contains(string(res.Console), "Kernel panic"))
	assertNoQEMU(t, dir)
}

// TestRunCancelKillsVM cancels a hung boot: Run returns the context's error
// and no QEMU survives.
func TestRunCancelKillsVM(t *testing.T) {
	cfg := testConfig(t)
	fam := realFamily(t)
	bad := filepath.Join(t.TempDir(), "init")
	if err := os.WriteFile(bad, []byte("not an executable\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	cfg.Init = bad
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	_, err := Run(ctx, cfg, Request{Kernel: fam.new.Vmlinuz(), Args: []string{"panic=0"}, Dir: dir})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("err = %v, want the context's deadline", err)
	}
	assertNoQEMU(t, dir)
}

// assertNoQEMU fails when a process whose command line names dir is alive.
func assertNoQEMU(t *testing.T, dir string) {
	t.Helper()
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err == nil && strings.Contains(string(b), dir) {
			t.Errorf("process %s survived: %s", filepath.Dir(p), strings.ReplaceAll(string(b), "\x00", " "))
		}
	}
}
