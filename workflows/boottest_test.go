package workflows

import (
	"context"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
)

// bootWorld is a world whose x86_64 kernel is boot-tested; boot answers
// the BootTest activity and records each input.
func bootWorld(t *testing.T, boot func(pipeline.BootInput) pipeline.BootOutput) (*world, Plan, *[]pipeline.BootInput) {
	w := newWorld(t)
	p := w.plan()
	p.Arches[0].Boot = &pipeline.BootVM{Queue: "boot-x86_64", TimeLimit: 30 * time.Second, Args: []string{"module.sig_enforce=1"}}
	var seen []pipeline.BootInput
	w.env.OnActivity("BootTest", mockAny, mockAny).Return(func(_ context.Context, in pipeline.BootInput) (pipeline.BootOutput, error) {
		seen = append(seen, in)
		out := boot(in)
		out.Log, out.Report = art("boot.log"), art("boot.json")
		return out, nil
	})
	return w, p, &seen
}

// refuse answers like a kernel that refuses the named kmod.
func refuse(name, msg string) func(pipeline.BootInput) pipeline.BootOutput {
	return func(in pipeline.BootInput) pipeline.BootOutput {
		out := pipeline.BootOutput{Booted: true}
		for _, k := range slices.Sorted(maps.Keys(in.Kmods)) {
			bk := pipeline.BootKmod{Name: k, Loaded: true}
			// A rebuild (packages carry the new kernel's VR) loads.
			if k == name && !strings.Contains(in.Kmods[k][0].Name, testVR) {
				bk.Loaded, bk.Reason = false, msg
			}
			out.Kmods = append(out.Kmods, bk)
		}
		return out
	}
}

func TestBootRefusalHoldsTheGateUntilApproved(t *testing.T) {
	const msg = "stabledrv: disagrees about version of symbol module_layout (errno 8)"
	w, p, seen := bootWorld(t, refuse("stabledrv", msg))
	w.env.RegisterDelayedCallback(func() {
		s := w.status()
		if s.Stage != pipeline.StageAwaitingApproval {
			t.Errorf("stage %q, want %q", s.Stage, pipeline.StageAwaitingApproval)
		}
		if u := s.Kmods["stabledrv"]; u.State != pipeline.StateFailed || !strings.Contains(u.Reason, msg) {
			t.Errorf("stabledrv %+v, want failed with the kernel's message", u)
		}
		if u := s.Kmods["tunabledrv"]; u.State != pipeline.StateCompatible || !strings.Contains(u.Reason, "boot-tested on x86_64") {
			t.Errorf("tunabledrv %+v, want compatible and boot-tested", u)
		}
		if b := s.Boot["x86_64"]; b.State != BootPassed || b.Log == nil || b.Log.Name != "boot.log" {
			t.Errorf("boot status %+v", b)
		}
		if len(s.Gate) != 1 || !strings.Contains(s.Gate[0], "module_layout") {
			t.Errorf("gate %q", s.Gate)
		}
		if len(w.requests) != 0 {
			t.Errorf("published while gated: %+v", w.requests)
		}
		w.env.SignalWorkflow(pipeline.ApproveSignal, "ship without it")
	}, time.Hour)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	r := w.result()
	if r.Stage != pipeline.StagePublished || !slices.Equal(r.Excluded, []string{"stabledrv"}) {
		t.Errorf("result %+v", r)
	}
	if !slices.Contains(w.stages, pipeline.StageBootTesting) || slices.Index(w.stages, pipeline.StageBootTesting) > slices.Index(w.stages, pipeline.StageAwaitingApproval) {
		t.Errorf("stages %v: want boot-testing before the gate", w.stages)
	}
	in := (*seen)[0]
	if in.VM.Queue != "boot-x86_64" || in.KernelNVR != testVR || len(in.Kernel) != 2 || len(in.Kmods) != 3 || in.VM.Args[0] != "module.sig_enforce=1" {
		t.Errorf("boot input %+v", in)
	}
	for _, pr := range w.requests[0].Provenance {
		if pr.BootTest == nil || pr.BootTest.Log.Name != "boot.log" || pr.BootTest.Arch != "x86_64" {
			t.Errorf("provenance of %s lacks the boot test: %+v", pr.RPM.Name, pr.BootTest)
		}
	}
}

func TestBootRetryRebuiltKmodLoadsAndPublishes(t *testing.T) {
	w, p, seen := bootWorld(t, refuse("stabledrv", "stabledrv: disagrees about version of symbol module_layout (errno 8)"))
	w.env.RegisterDelayedCallback(func() {
		w.env.SignalWorkflow(pipeline.RetryKmodSignal, "stabledrv")
	}, time.Hour)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	r := w.result()
	if r.Stage != pipeline.StagePublished || len(r.Excluded) != 0 {
		t.Fatalf("result %+v", r)
	}
	if !slices.Contains(w.added(), "kmod-stabledrv-"+testVR+".x86_64.rpm") {
		t.Errorf("published %v, want the rebuilt stabledrv", w.added())
	}
	if len(*seen) != 2 {
		t.Errorf("boot tests %d, want 2 (first, and after the retry)", len(*seen))
	}
}

func TestBootNoBootHoldsTheGate(t *testing.T) {
	w, p, _ := bootWorld(t, func(pipeline.BootInput) pipeline.BootOutput {
		return pipeline.BootOutput{Failure: "no result within the 30s time limit; QEMU killed"}
	})
	w.env.RegisterDelayedCallback(func() {
		s := w.status()
		if len(s.Gate) != 1 || !strings.Contains(s.Gate[0], "does not boot on x86_64: no result within the 30s time limit") {
			t.Errorf("gate %q", s.Gate)
		}
		if s.Boot["x86_64"].State != BootNoBoot {
			t.Errorf("boot %+v", s.Boot)
		}
		w.env.SignalWorkflow(pipeline.RejectSignal, "kernel does not boot")
	}, time.Hour)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	if r := w.result(); r.Stage != pipeline.StageRejected || len(w.requests) != 0 {
		t.Errorf("result %+v, requests %d", r, len(w.requests))
	}
}

func TestBootOffSaysNotBootTested(t *testing.T) {
	w := newWorld(t)
	w.env.ExecuteWorkflow(KernelRebuild, input(w.plan()))
	if r := w.result(); r.Stage != pipeline.StagePublished {
		t.Fatalf("result %+v", r)
	}
	s := w.status()
	if s.Boot["x86_64"].State != BootNotTested {
		t.Errorf("boot %+v", s.Boot)
	}
	for name, u := range s.Kmods {
		if strings.Contains(u.Reason, "loads") || !strings.Contains(u.Reason, notBootTested) {
			t.Errorf("kmod %s: %q, want %q and never \"loads\"", name, u.Reason, notBootTested)
		}
	}
	w.env.AssertActivityNotCalled(t, "BootTest", mockAny, mockAny)
}
