package main

import (
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// The kabiforge binary links only the Temporal SDK: the server and the UI
// live in kabiforge-devserver, which `kabiforge dev` runs as a child.
func TestKabiforgeLinksNoServer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, banned := range []string{"go.temporal.io/server", "github.com/temporalio/ui-server"} {
			if dep == banned || strings.HasPrefix(dep, banned+"/") {
				t.Errorf("kabiforge imports %s", dep)
			}
		}
	}
}

// The main module's dependency graph holds no Temporal server or UI: they
// belong to cmd/kabiforge-devserver's own module.
func TestMainModuleRequiresNoServer(t *testing.T) {
	cmd := exec.Command("go", "list", "-m", "all")
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("go list -m all: %v\n%s", err, out)
	}
	mods := strings.Split(strings.TrimSpace(string(out)), "\n")
	for _, m := range mods {
		for _, banned := range []string{"go.temporal.io/server ", "github.com/temporalio/ui-server/"} {
			if strings.HasPrefix(m+" ", banned) {
				t.Errorf("the main module's graph lists %s", m)
			}
		}
	}
	t.Logf("the main module's graph has %d modules", len(mods))
}

// `kabiforge --help` starts quickly: the best of five runs is well under
// the 170 ms a binary linking the Temporal server takes to print its help.
func TestHelpStartsFast(t *testing.T) {
	bestWall, bestCPU := time.Hour, time.Hour
	var rss int64
	for range 5 {
		cmd := exec.Command(kabiforgeBin, "--help")
		start := time.Now()
		if out, err := cmd.CombinedOutput(); err != nil || !strings.Contains(string(out), "dev") {
			t.Fatalf("kabiforge --help: %v\n%s", err, out)
		}
		bestWall = min(bestWall, time.Since(start))
		// CPU time is what the binary's start-up costs; the wall clock
		// adds however long the machine's other work kept it waiting.
		bestCPU = min(bestCPU, cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		rss = cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss
	}
	t.Logf("kabiforge --help: best of 5 %v wall, %v CPU, max RSS %d KiB", bestWall, bestCPU, rss)
	if bestCPU > 100*time.Millisecond {
		t.Errorf("kabiforge --help took %v of CPU at best, want under 100 ms", bestCPU)
	}
	if limit := testutil.LoadScaled(t, 100*time.Millisecond); bestWall > limit {
		t.Errorf("kabiforge --help took %v at best, want under %v (50 ms on an idle machine)", bestWall, limit)
	}
}
