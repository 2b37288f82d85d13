package workflows

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/internal/boot/bootfixture"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/store"
)

// TestBootGateRefusesAForcedWrongBuildThenPublishesTheRebuild forces into
// the publish for the real family's 6.1.0-57 a kmod built for 6.1.0-47
// whose RPM Requires claim -57's CRCs. CheckKmods (the CRC check) and
// BootTest run for real on real packages; the kernel's refusal, read from
// the kernel booted in QEMU, fails the kmod in status and holds the gate with
// nothing published; retry-kmod rebuilds it for -57, the kernel loads it,
// and it publishes.
func TestBootGateRefusesAForcedWrongBuildThenPublishesTheRebuild(t *testing.T) {
	qemu := testutil.RequireTool(t, "qemu-system-x86_64")
	testutil.RequireTool(t, "rpmbuild")
	old, cur := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	oldKo, newKo := bootfixture.Hello(t, old), bootfixture.Hello(t, cur)
	requires := bootfixture.Requires(t, newKo)
	st, err := store.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(p string) []pipeline.Artifact {
		a, err := activities.PutRPM(context.Background(), st, p)
		if err != nil {
			t.Fatal(err)
		}
		return []pipeline.Artifact{a}
	}
	real := &activities.Activities{Artifacts: st, WorkDir: t.TempDir(), Boot: &activities.BootEnv{}}

	w := newWorld(t)
	w.env.SetTestTimeout(10 * time.Minute)
	p := w.plan()
	p.Kmods = []pipeline.KmodSpec{{Name: "hello", Package: "kmod-hello", Source: "upstream"}}
	w.published["hello"] = true
	p.Arches[0].Boot = &pipeline.BootVM{QEMU: qemu, TimeLimit: 2 * time.Minute}
	w.real = real
	w.kernelRPMs = put(bootfixture.KernelCoreRPM(t, cur, requires))
	w.publishedRPMs = map[string][]pipeline.Artifact{"hello": put(bootfixture.KmodRPM(t, cur.Release, "1", oldKo, requires))}
	w.rebuiltRPMs = map[string][]pipeline.Artifact{"kmod-hello": put(bootfixture.KmodRPM(t, cur.Release, "2", newKo, requires))}
	w.env.OnActivity("BootTest", mockAny, mockAny).Return(real.BootTest)

	w.env.RegisterDelayedCallback(func() {
		s := w.status()
		u := s.Kmods["hello"]
		if s.Stage != pipeline.StageAwaitingApproval || u.State != pipeline.StateFailed ||
			!strings.Contains(u.Reason, "hello: disagrees about version of symbol module_layout") {
			t.Errorf("stage %s, hello %+v: want held with the kernel's message", s.Stage, u)
		}
		if len(s.Gate) != 1 || !strings.Contains(s.Gate[0], "module_layout") || len(w.requests) != 0 {
			t.Errorf("gate %q, %d publish requests: want held, nothing published", s.Gate, len(w.requests))
		}
		w.env.SignalWorkflow(pipeline.RetryKmodSignal, "hello")
	}, time.Hour)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	r := w.result()
	if r.Stage != pipeline.StagePublished || len(r.Excluded) != 0 {
		t.Fatalf("result %+v", r)
	}
	if got := w.added(); !slices.Contains(got, "kmod-hello-1.0-2.x86_64.rpm") || slices.Contains(got, "kmod-hello-1.0-1.x86_64.rpm") {
		t.Errorf("published %v: want the -57 rebuild, not the wrong build", got)
	}
	if u := w.status().Kmods["hello"]; !strings.Contains(u.Reason, "boot-tested on x86_64") {
		t.Errorf("hello %+v, want loaded in the boot test", u)
	}
}
