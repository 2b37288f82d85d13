package workflows

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

const (
	testVR   = "4.18.0-80.1.2.el8_0"
	testPrev = "4.18.0-80.el8"
)

func art(name string) pipeline.Artifact {
	return pipeline.Artifact{Key: "k/" + name, SHA256: fmt.Sprintf("%064x", len(name)), Name: name}
}

// world is the mocked outside of a KernelRebuild: what the analysis finds,
// which builds fail, and everything the activities were asked to do.
type world struct {
	t   *testing.T
	env *testsuite.TestWorkflowEnvironment

	mu sync.Mutex
	// published maps a kmod to its published build; absent means none.
	published map[string]bool
	broken    map[string]bool // kmods whose published build the new kernel breaks
	stable    []string        // stablelisted symbols the new kernel changed
	failBuild map[string]int  // label prefix -> failures left (-1 forever)
	builds    []pipeline.BuildInput
	requests  []pipeline.PublishRequest
	fetched   []string
	stages    []pipeline.Stage
	kmodDelay time.Duration // how long each kmod build takes
	// greylist is each kmod's greylist count in the analysis (its published
	// build) and, in verifyGreylist, in CheckKmods (the build to publish).
	greylist, verifyGreylist map[string]int
	exportChanged            []string       // the analysis' export changes
	checkPolicies            []*kabi.Policy // the policy of each CheckKmods
	// Real packages, when set: the kernel build's, each kmod rebuild's and
	// each kmod's published build's; real runs CheckKmods on them.
	kernelRPMs    []pipeline.Artifact
	rebuiltRPMs   map[string][]pipeline.Artifact
	publishedRPMs map[string][]pipeline.Artifact
	real          *activities.Activities
}

func newWorld(t *testing.T) *world {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	w := &world{t: t, env: env, published: map[string]bool{}, broken: map[string]bool{}, failBuild: map[string]int{}}
	env.OnActivity("FetchSRPM", mock.Anything, mock.Anything).Return(func(_ context.Context, in pipeline.FetchInput) (pipeline.Fetched, error) {
		return pipeline.Fetched{Artifact: art(in.Package.NVR() + ".src.rpm"), Signers: []string{"UPSTREAMKEY"}}, nil
	})
	env.OnActivity("FetchNewest", mock.Anything, mock.Anything).Return(func(_ context.Context, in pipeline.KmodSourceInput) (pipeline.Fetched, error) {
		w.mu.Lock()
		w.fetched = append(w.fetched, in.Package)
		w.mu.Unlock()
		return pipeline.Fetched{Artifact: art(in.Package + "-1.0-1.el8.src.rpm")}, nil
	})
	env.OnActivity("Build", mock.Anything, mock.Anything).Return(w.build)
	env.OnActivity("Analyze", mock.Anything, mock.Anything).Return(w.analyze)
	env.OnActivity("CheckKmods", mock.Anything, mock.Anything).Return(func(ctx context.Context, in pipeline.CheckInput) ([]pipeline.KmodVerdict, error) {
		if w.real != nil {
			return w.real.CheckKmods(ctx, in)
		}
		var out []pipeline.KmodVerdict
		w.mu.Lock()
		w.checkPolicies = append(w.checkPolicies, in.Policy)
		w.mu.Unlock()
		for name, rpms := range in.Kmods {
			// A rebuilt kmod (its packages carry the new kernel's VR) loads.
			ok := !w.broken[name] || strings.Contains(rpms[0].Name, testVR)
			out = append(out, pipeline.KmodVerdict{Name: name, Compatible: ok, Greylist: w.verifyGreylist[name]})
		}
		return out, nil
	})
	env.OnActivity("Sign", mock.Anything, mock.Anything).Return(func(_ context.Context, in pipeline.SignInput) (pipeline.SignOutput, error) {
		out := pipeline.SignOutput{KeyID: "SIGNINGKEY"}
		for _, r := range in.RPMs {
			s := r
			s.Key = "signed/" + r.Name
			out.RPMs = append(out.RPMs, s)
		}
		return out, nil
	})
	env.OnActivity("RequestPublish", mock.Anything, mock.Anything).Return(func(_ context.Context, req pipeline.PublishRequest) error {
		w.mu.Lock()
		w.requests = append(w.requests, req)
		w.mu.Unlock()
		env.SignalWorkflow(pipeline.PublishedSignal, pipeline.PublishResult{ID: req.ID, Committed: true, Packages: len(req.Add)})
		return nil
	})
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		if sa, ok := args.Get(0).(temporal.SearchAttributes); ok {
			if v, ok := sa.GetKeyword(KabiStageKey); ok {
				w.stages = append(w.stages, pipeline.Stage(v))
			}
		}
	}).Return(nil)
	return w
}

func (w *world) build(_ context.Context, in pipeline.BuildInput) (pipeline.BuildOutput, error) {
	if in.RetargetKernel != "" {
		time.Sleep(w.kmodDelay)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.builds = append(w.builds, in)
	for prefix, n := range w.failBuild {
		if strings.HasPrefix(in.Label, prefix) && n != 0 {
			w.failBuild[prefix] = n - 1
			return pipeline.BuildOutput{}, temporal.NewNonRetryableApplicationError(
				"build "+in.Label+": rpmbuild exited with status 1", activities.ErrPackageBuild, nil)
		}
	}
	out := pipeline.BuildOutput{SRPM: art(in.Label + ".src.rpm"), Logs: []pipeline.Artifact{art(in.Label + ".log")}, Host: "h", Builder: "fake"}
	if strings.HasPrefix(in.Label, "kernel-") {
		out.RPMs = []pipeline.Artifact{art("kernel-core-" + testVR + "." + in.Arch + ".rpm"), art("kernel-devel-" + testVR + "." + in.Arch + ".rpm")}
		if w.kernelRPMs != nil {
			out.RPMs = w.kernelRPMs
		}
	} else {
		name := strings.SplitN(in.Label, "-for-", 2)[0]
		out.RPMs = []pipeline.Artifact{art(name + "-" + in.RetargetKernel + "." + in.Arch + ".rpm")}
		if rpms, ok := w.rebuiltRPMs[name]; ok {
			out.RPMs = rpms
		}
	}
	return out, nil
}

func (w *world) analyze(_ context.Context, in pipeline.AnalyzeInput) (pipeline.Analysis, error) {
	out := pipeline.Analysis{Arch: in.Arch, Previous: testPrev, StablelistChanged: w.stable, ExportChanged: w.exportChanged,
		Report: art("report.txt"), ReportJSON: art("report.json")}
	for _, k := range in.Kmods {
		v := pipeline.KmodVerdict{Name: k.Name, Compatible: !w.broken[k.Name], Greylist: w.greylist[k.Name]}
		if w.published[k.Name] {
			v.Published = &pipeline.Published{RPMs: []pipeline.Artifact{art(k.Package + "-old." + in.Arch + ".rpm")},
				SRPM: art(k.Package + "-old.src.rpm"), KernelNVR: testPrev}
			if rpms, ok := w.publishedRPMs[k.Name]; ok {
				v.Published.RPMs = rpms
			}
		}
		if w.broken[k.Name] {
			v.Breaks = []string{"hwmon_device_register_with_info"}
			out.Changed = 1
		}
		out.Kmods = append(out.Kmods, v)
	}
	return out, nil
}

// plan is a one-arch plan with three kmods, all published.
func (w *world) plan() Plan {
	for _, k := range []string{"stabledrv", "fragiledrv", "tunabledrv"} {
		w.published[k] = true
	}
	return Plan{Source: "upstream", Stream: "el8", Arches: []Arch{{Name: "x86_64", Queue: "build-x86_64"}},
		Repository: "kabiforge", RepoURL: "http://repo/", ControlQueue: "kabiforge", KmodParallel: 2,
		Gate: Gate{On: []pipeline.GateCondition{pipeline.GateKmodFailed, pipeline.GateStablelistChanged}},
		Kmods: []pipeline.KmodSpec{{Name: "stabledrv", Package: "kmod-stabledrv", Source: "upstream"},
			{Name: "fragiledrv", Package: "kmod-fragiledrv", Source: "upstream"},
			{Name: "tunabledrv", Package: "kmod-tunabledrv", Source: "upstream"}}}
}

func input(p Plan) RebuildInput {
	return RebuildInput{Kernel: pipeline.SourcePackage{Name: "kernel", Version: "4.18.0", Release: "80.1.2.el8_0", Arch: "src",
		Location: "kernel-" + testVR + ".src.rpm"}, Plan: p}
}

// status queries the running workflow.
func (w *world) status() Status {
	w.t.Helper()
	v, err := w.env.QueryWorkflow(pipeline.StatusQuery)
	if err != nil {
		w.t.Fatalf("query status: %v", err)
	}
	var s Status
	if err := v.Get(&s); err != nil {
		w.t.Fatal(err)
	}
	return s
}

// result returns the finished workflow's result.
func (w *world) result() RebuildResult {
	w.t.Helper()
	if !w.env.IsWorkflowCompleted() {
		w.t.Fatal("workflow did not complete")
	}
	if err := w.env.GetWorkflowError(); err != nil {
		w.t.Fatalf("workflow failed: %v", err)
	}
	var r RebuildResult
	if err := w.env.GetWorkflowResult(&r); err != nil {
		w.t.Fatal(err)
	}
	return r
}

// builtLabels lists the labels of the builds run, in order.
func (w *world) builtLabels() []string {
	var out []string
	for _, b := range w.builds {
		out = append(out, b.Label)
	}
	return out
}

// added lists the file names of the one publish request.
func (w *world) added() []string {
	w.t.Helper()
	if len(w.requests) != 1 {
		w.t.Fatalf("publish requests = %d, want 1", len(w.requests))
	}
	var out []string
	for _, a := range w.requests[0].Add {
		out = append(out, a.Name)
	}
	return out
}

var mockAny = mock.Anything

type (
	workflowInfo  = workflow.Info
	wfContext     = workflow.Context
	encodedValues = converter.EncodedValues
	encodedValue  = converter.EncodedValue
)
