package workflows

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

func TestRebuildWithoutBreakPublishesByItself(t *testing.T) {
	w := newWorld(t)
	w.env.ExecuteWorkflow(KernelRebuild, input(w.plan()))
	r := w.result()
	if r.Stage != pipeline.StagePublished || len(r.Excluded) != 0 {
		t.Fatalf("result %+v", r)
	}
	if got := w.builtLabels(); !slices.Equal(got, []string{"kernel-" + testVR}) {
		t.Errorf("builds = %v, want only the kernel", got)
	}
	want := []string{"kernel-core-" + testVR + ".x86_64.rpm", "kernel-devel-" + testVR + ".x86_64.rpm"}
	if got := w.added(); !slices.Equal(got, want) {
		t.Errorf("published %v, want %v", got, want)
	}
	req := w.requests[0]
	if req.Requester != "default-test-workflow-id" || req.Repository != "kabiforge" {
		t.Errorf("request %+v", req)
	}
	for _, p := range req.Provenance {
		if p.SigningKeyID != "SIGNINGKEY" || p.UpstreamSRPM == nil || p.UpstreamSRPM.SHA256 == "" || len(p.Logs) == 0 ||
			p.KernelNVR != testVR || p.Kind != "kernel" || !strings.HasPrefix(p.RPM.Key, "signed/") {
			t.Errorf("provenance %+v", p)
		}
	}
	wantStages := []pipeline.Stage{pipeline.StageFetching, pipeline.StageBuildingKernel, pipeline.StageAnalyzing, pipeline.StageRebuildingKmods, pipeline.StageVerifying, pipeline.StageSigning, pipeline.StagePublishing, pipeline.StagePublished}
	if !slices.Equal(w.stages, wantStages) {
		t.Errorf("KabiStage upserts %v, want %v", w.stages, wantStages)
	}
	if slices.Contains(w.stages, pipeline.StageAwaitingApproval) {
		t.Error("gate held a kernel that broke nothing")
	}
}

func TestRebuildRebuildsOnlyTheBrokenKmod(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	w.broken["fragiledrv"] = true
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	r := w.result()
	if r.Stage != pipeline.StagePublished {
		t.Fatalf("result %+v", r)
	}
	labels := w.builtLabels()
	if !slices.Equal(labels, []string{"kernel-" + testVR, "kmod-fragiledrv-for-" + testVR}) {
		t.Fatalf("builds = %v", labels)
	}
	kb := w.builds[1]
	if kb.RetargetKernel != testVR || kb.SRPM.Name != "kmod-fragiledrv-old.src.rpm" || len(kb.Deps) != 2 {
		t.Errorf("kmod build %+v: want retargeted from the published SRPM against the new kernel's packages", kb)
	}
	if got := w.added(); !slices.Contains(got, "kmod-fragiledrv-"+testVR+".x86_64.rpm") || len(got) != 3 {
		t.Errorf("published %v", got)
	}
	if len(w.fetched) != 0 {
		t.Errorf("fetched upstream kmod sources %v; the published SRPM should be retargeted", w.fetched)
	}
}

func TestRebuildFirstKernelBuildsEveryKmodFromUpstream(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	clear(w.published)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	if r := w.result(); r.Stage != pipeline.StagePublished {
		t.Fatalf("result %+v", r)
	}
	slices.Sort(w.fetched)
	if !slices.Equal(w.fetched, []string{"kmod-fragiledrv", "kmod-stabledrv", "kmod-tunabledrv"}) {
		t.Errorf("fetched %v", w.fetched)
	}
	if n := len(w.added()); n != 5 {
		t.Errorf("published %d packages, want kernel 2 + kmods 3", n)
	}
}

// failFragile makes fragiledrv break and its rebuild fail, and returns a
// world whose workflow is waiting at the gate when check runs.
func gatedWorld(t *testing.T, signal func(w *world)) *world {
	w := newWorld(t)
	p := w.plan()
	w.broken["fragiledrv"] = true
	w.failBuild["kmod-fragiledrv"] = -1
	w.env.RegisterDelayedCallback(func() {
		s := w.status()
		if s.Stage != pipeline.StageAwaitingApproval {
			t.Errorf("stage = %q, want %q", s.Stage, pipeline.StageAwaitingApproval)
		}
		u := s.Kmods["fragiledrv"]
		if u.State != pipeline.StateFailed || !strings.Contains(u.Reason, "rpmbuild exited") {
			t.Errorf("fragiledrv = %+v", u)
		}
		if len(s.Gate) != 1 || !strings.Contains(s.Gate[0], "kmod fragiledrv failed") {
			t.Errorf("gate reasons %q", s.Gate)
		}
		if s.Kmods["stabledrv"].State != pipeline.StateCompatible || s.RepoURL != "http://repo/" {
			t.Errorf("status %+v", s)
		}
		if len(w.stages) == 0 || w.stages[len(w.stages)-1] != pipeline.StageAwaitingApproval {
			t.Errorf("KabiStage upserts %v", w.stages)
		}
		signal(w)
	}, time.Hour)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	return w
}

func TestRebuildKmodFailureWaitsAndRejectPublishesNothing(t *testing.T) {
	w := gatedWorld(t, func(w *world) { w.env.SignalWorkflow(pipeline.RejectSignal, "driver team says no") })
	r := w.result()
	if r.Stage != pipeline.StageRejected || r.Reason != "driver team says no" {
		t.Errorf("result %+v", r)
	}
	if len(w.requests) != 0 {
		t.Errorf("rejected kernel was published: %+v", w.requests)
	}
	w.env.AssertActivityNotCalled(t, "Sign", mockAny)
}

func TestRebuildApprovePublishesWithoutTheFailedKmod(t *testing.T) {
	w := gatedWorld(t, func(w *world) { w.env.SignalWorkflow(pipeline.ApproveSignal, "ok") })
	r := w.result()
	if r.Stage != pipeline.StagePublished || !slices.Equal(r.Excluded, []string{"fragiledrv"}) {
		t.Fatalf("result %+v", r)
	}
	for _, name := range w.added() {
		if strings.Contains(name, "fragiledrv") {
			t.Errorf("published the failed kmod: %s", name)
		}
	}
}

func TestRebuildRetryKmodOpensTheGate(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	w.broken["fragiledrv"] = true
	w.failBuild["kmod-fragiledrv"] = 1 // fails once, then builds
	w.env.RegisterDelayedCallback(func() {
		if s := w.status(); s.Stage != pipeline.StageAwaitingApproval {
			t.Errorf("stage %q", s.Stage)
		}
		w.env.SignalWorkflow(pipeline.RetryKmodSignal, "fragiledrv")
	}, time.Hour)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	r := w.result()
	if r.Stage != pipeline.StagePublished || len(r.Excluded) != 0 {
		t.Fatalf("result %+v", r)
	}
	if got := w.builtLabels(); !slices.Contains(got, "kmod-fragiledrv-for-"+testVR+"-retry1") {
		t.Errorf("builds %v", got)
	}
	if got := w.added(); !slices.Contains(got, "kmod-fragiledrv-"+testVR+".x86_64.rpm") {
		t.Errorf("published %v", got)
	}
}

func TestRebuildStablelistChangeHoldsTheGate(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	w.stable = []string{"pci_enable_device"}
	w.env.RegisterDelayedCallback(func() {
		s := w.status()
		if s.Stage != pipeline.StageAwaitingApproval || len(s.Gate) != 1 || !strings.Contains(s.Gate[0], "pci_enable_device") {
			t.Errorf("status %+v", s)
		}
		w.env.SignalWorkflow(pipeline.ApproveSignal, "known change")
	}, time.Hour)
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	if r := w.result(); r.Stage != pipeline.StagePublished {
		t.Fatalf("result %+v", r)
	}
	if len(w.builds) != 1 {
		t.Errorf("builds %v", w.builtLabels())
	}
}

func TestRebuildGatePolicyEmptyNeverHolds(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	p.Gate.On = nil
	w.broken["fragiledrv"] = true
	w.failBuild["kmod-fragiledrv"] = -1
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	r := w.result()
	if r.Stage != pipeline.StagePublished || !slices.Equal(r.Excluded, []string{"fragiledrv"}) {
		t.Fatalf("result %+v", r)
	}
}

func TestRebuildGateTimeoutTakesItsAction(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	p.Gate.Timeout, p.Gate.TimeoutAction = 24*time.Hour, "reject"
	w.stable = []string{"pci_enable_device"}
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	if r := w.result(); r.Stage != pipeline.StageRejected || r.Reason != "gate timeout" {
		t.Fatalf("result %+v", r)
	}
}

func TestRebuildAlwaysPolicyRebuildsCompatibleKmods(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	p.Kmods[0].Always = true
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	if r := w.result(); r.Stage != pipeline.StagePublished {
		t.Fatalf("result %+v", r)
	}
	if got := w.builtLabels(); !slices.Equal(got, []string{"kernel-" + testVR, "kmod-stabledrv-for-" + testVR}) {
		t.Errorf("builds %v", got)
	}
}

func TestRebuildKernelBuildFailureFails(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	p.Arches = append(p.Arches, Arch{Name: "aarch64", Queue: "build-aarch64"})
	w.failBuild["kernel-"] = -1
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	if !w.env.IsWorkflowCompleted() || w.env.GetWorkflowError() == nil {
		t.Fatal("workflow did not fail")
	}
	var app *temporal.ApplicationError
	if !errors.As(w.env.GetWorkflowError(), &app) || app.Type() != activities.ErrPackageBuild {
		t.Errorf("error %v", w.env.GetWorkflowError())
	}
	if n := len(w.builds); n != 2 {
		t.Errorf("%d builds, want one per arch, in parallel", n)
	}
	if len(w.stages) == 0 || w.stages[len(w.stages)-1] != pipeline.StageFailed || len(w.requests) != 0 {
		t.Errorf("stages %v, requests %d", w.stages, len(w.requests))
	}
}

func TestRebuildKmodsRunInParallelWithinTheLimit(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	clear(w.published)
	p.KmodParallel = 2
	w.kmodDelay = 100 * time.Millisecond
	running, peak := 0, 0
	w.env.SetOnChildWorkflowStartedListener(func(info *workflowInfo, _ wfContext, args encodedValues) {
		if strings.HasPrefix(info.WorkflowExecution.ID, "build/kmod-") {
			running++
			peak = max(peak, running)
		}
	})
	w.env.SetOnChildWorkflowCompletedListener(func(info *workflowInfo, _ encodedValue, _ error) {
		if strings.HasPrefix(info.WorkflowExecution.ID, "build/kmod-") {
			running--
		}
	})
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	w.result()
	if peak != 2 {
		t.Errorf("peak kmod builds at once = %d, want 2", peak)
	}
}

func TestVerifyFailure(t *testing.T) {
	cases := []struct {
		v      pipeline.KmodVerdict
		fails  bool
		reason string
	}{
		{pipeline.KmodVerdict{Name: "ok", Compatible: true}, false, ""},
		{pipeline.KmodVerdict{Name: "crc", Breaks: []string{"kfree"}}, true, "does not load on 1-2 (x86_64): kfree"},
		{pipeline.KmodVerdict{Name: "sig", Compatible: true, BadSignatures: []string{"/lib/modules/x/a.ko: module is not signed"}},
			true, "module signature (x86_64): /lib/modules/x/a.ko: module is not signed"},
	}
	for _, c := range cases {
		reason, fails := verifyFailure(c.v, "1-2", "x86_64")
		if fails != c.fails || reason != c.reason {
			t.Errorf("%s: %q %v, want %q %v", c.v.Name, reason, fails, c.reason, c.fails)
		}
	}
}

// TestRebuildStatusShowsGreylistsAndExportChanges: status carries the
// analysis' export changes and each kmod's greylist count, the count of the
// build to publish (a rebuilt kmod's from the verification, a kept one's as
// analysed), and the verification checks under the stream's policy.
func TestRebuildStatusShowsGreylistsAndExportChanges(t *testing.T) {
	w := newWorld(t)
	p := w.plan()
	p.KabiPolicy = &kabi.Policy{Rules: []kabi.Rule{{Kinds: []kabi.Kind{kabi.KindVermagic}, Action: kabi.ActionIgnore}}}
	w.broken["fragiledrv"] = true
	w.greylist = map[string]int{"stabledrv": 2, "fragiledrv": 5, "tunabledrv": 0}
	w.verifyGreylist = map[string]int{"stabledrv": 2, "fragiledrv": 3, "tunabledrv": 0}
	w.exportChanged = []string{"kstrdup: EXPORT_SYMBOL -> EXPORT_SYMBOL_GPL"}
	w.env.ExecuteWorkflow(KernelRebuild, input(p))
	if r := w.result(); r.Stage != pipeline.StagePublished {
		t.Fatalf("result %+v", r)
	}
	s := w.status()
	for name, want := range w.verifyGreylist {
		if got := s.Kmods[name].Greylist; got != want {
			t.Errorf("%s: greylist %d, want %d", name, got, want)
		}
		// The compatibility page reads the publish's outcome.
		if got := w.requests[0].Kernel.Kmods[name].Greylist; got != want {
			t.Errorf("%s: greylist %d in the publish's outcome, want %d", name, got, want)
		}
	}
	if !slices.Equal(s.Kabi.ExportChanged, w.exportChanged) {
		t.Errorf("kABI summary %+v, want export changes %q", s.Kabi, w.exportChanged)
	}
	if len(w.checkPolicies) != 1 || w.checkPolicies[0] == nil || w.checkPolicies[0].Rules[0].Action != kabi.ActionIgnore {
		t.Errorf("CheckKmods policies %+v, want the stream's", w.checkPolicies)
	}
}
