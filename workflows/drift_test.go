package workflows

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

func core(version, release, arch string) pipeline.SourcePackage {
	return pipeline.SourcePackage{Name: "kernel-core", Version: version, Release: release, Arch: arch,
		Location: "kernel-core-" + version + "-" + release + "." + arch + ".rpm"}
}

var el8Plan = Plan{Stream: "el8", Repository: "el8", ControlQueue: "kabiforge",
	Arches: []Arch{{Name: "x86_64"}, {Name: "aarch64"}}}

func TestDriftCandidates(t *testing.T) {
	ref := WatchReference{Version: "4.18.0", Release: "*.el8", Plan: el8Plan}
	tests := []struct {
		name     string
		listing  pipeline.Listing
		want     []string            // kernel VRs, newest first
		packages map[string][]string // VR → arches of its packages
		problems map[string][]string // VR → problem prefixes
	}{
		{"kernel-core per arch, newest first, others ignored", pipeline.Listing{Packages: []pipeline.SourcePackage{
			core("4.18.0", "500.el8", "x86_64"), core("4.18.0", "500.el8", "aarch64"), core("4.18.0", "513.el8", "x86_64"),
			core("4.18.0", "477.10.1.el8_8", "x86_64"), // RHEL's: not this reference
			core("4.18.0", "500.el8", "s390x"),         // an arch the stream does not build
			{Name: "kernel-modules", Version: "4.18.0", Release: "500.el8", Arch: "x86_64"},
			srpm("kmod-foo", "1.0", "1.el8")}},
			[]string{"4.18.0-513.el8", "4.18.0-500.el8"},
			map[string][]string{"4.18.0-513.el8": {"x86_64"}, "4.18.0-500.el8": {"x86_64", "aarch64"}}, nil},
		{"a source package alone says where the kABI is read from", pipeline.Listing{Packages: []pipeline.SourcePackage{
			srpm("kernel", "4.18.0", "500.el8")}},
			[]string{"4.18.0-500.el8"}, map[string][]string{"4.18.0-500.el8": nil},
			map[string][]string{"4.18.0-500.el8": {"kernel-4.18.0-500.el8 is a source package"}}},
		{"listed twice, listing problems carried", pipeline.Listing{Packages: []pipeline.SourcePackage{
			core("4.18.0", "500.el8", "x86_64"), core("4.18.0", "500.el8", "x86_64")}, Problems: []string{"kernel-core-x.rpm: not an RPM"}},
			[]string{"4.18.0-500.el8"}, map[string][]string{"4.18.0-500.el8": {"x86_64"}},
			map[string][]string{"4.18.0-500.el8": {"kernel-core-x.rpm: not an RPM", "kernel-core-4.18.0-500.el8.x86_64 is listed twice"}}},
		{"garbage names match nothing", pipeline.Listing{Packages: []pipeline.SourcePackage{
			{Name: "kernel-core", Version: "", Release: "", Arch: "x86_64"}, {Name: "", Version: "-", Release: "*"}}}, nil, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := DriftCandidates(tc.listing, []WatchReference{ref})
			var vrs []string
			for _, d := range got {
				vrs = append(vrs, d.KernelNVR)
				var arches []string
				for _, p := range d.Packages {
					arches = append(arches, p.Arch)
				}
				if !slices.Equal(arches, tc.packages[d.KernelNVR]) {
					t.Errorf("%s: packages for %v, want %v", d.KernelNVR, arches, tc.packages[d.KernelNVR])
				}
				want := tc.problems[d.KernelNVR]
				if len(d.Problems) != len(want) {
					t.Errorf("%s: problems %q, want %q", d.KernelNVR, d.Problems, want)
				}
				for i := range min(len(want), len(d.Problems)) {
					if !strings.HasPrefix(d.Problems[i], want[i]) {
						t.Errorf("%s: problem %q, want %q…", d.KernelNVR, d.Problems[i], want[i])
					}
				}
				if d.Plan.Stream != "el8" {
					t.Errorf("%s: plan %+v", d.KernelNVR, d.Plan)
				}
			}
			if !slices.Equal(vrs, tc.want) {
				t.Errorf("candidates %v, want %v", vrs, tc.want)
			}
		})
	}
}

// TestKernelWatchChecksReferencesInsteadOfRebuilding: the stream's own
// pattern (*.el8*) also matches CentOS Stream's kernels (*.el8), which the
// reference claims: they get a KabiDrift, not a KernelRebuild.
func TestKernelWatchChecksReferencesInsteadOfRebuilding(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	pkgs := []pipeline.SourcePackage{srpm("kernel", "4.18.0", "477.10.1.el8_8"), srpm("kernel", "4.18.0", "500.el8")}
	env.OnActivity("ListSource", mock.Anything, "upstream").Return(pkgs, nil)
	env.OnActivity("ListReferences", mock.Anything, "upstream").Return(pipeline.Listing{
		Packages: append(slices.Clone(pkgs), core("4.18.0", "500.el8", "x86_64"))}, nil)
	env.OnWorkflow(pipeline.KernelRebuildWorkflow, mock.Anything, mock.Anything).Return(RebuildResult{Stage: pipeline.StagePublished}, nil)
	env.OnWorkflow(pipeline.KabiDriftWorkflow, mock.Anything, mock.Anything).Return(DriftStatus{Step: DriftDone}, nil)
	var drifts []DriftInput
	env.SetOnChildWorkflowStartedListener(func(info *workflowInfo, _ wfContext, args encodedValues) {
		if info.WorkflowType.Name == pipeline.KabiDriftWorkflow {
			var in DriftInput
			if err := args.Get(&in); err != nil {
				t.Error(err)
			}
			drifts = append(drifts, in)
		}
	})
	env.ExecuteWorkflow(KernelWatch, WatchInput{Source: "upstream",
		Streams:    []WatchStream{{Version: "4.18.0", Release: "*.el8*", Plan: el8Plan}},
		References: []WatchReference{{Version: "4.18.0", Release: "*.el8", Plan: el8Plan}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res WatchResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := []string{"kernel/4.18.0-477.10.1.el8_8", "drift/el8/4.18.0-500.el8"}
	if !slices.Equal(res.Started, want) {
		t.Errorf("started %v, want %v", res.Started, want)
	}
	if len(drifts) != 1 || drifts[0].Source != "upstream" || len(drifts[0].Packages) != 1 || len(drifts[0].Problems) != 1 {
		t.Errorf("drift inputs %+v: want one with the x86_64 kernel-core and the SRPM named as a problem", drifts)
	}
}

func TestKernelWatchReportsAGarbageReferenceListing(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("ListReferences", mock.Anything, "c8s").Return(pipeline.Listing{Packages: []pipeline.SourcePackage{},
		Problems: []string{"list source c8s: repodata/primary.xml.gz: not gzip"}}, nil)
	env.ExecuteWorkflow(KernelWatch, WatchInput{Source: "c8s",
		References: []WatchReference{{Version: "4.18.0", Release: "*.el8", Plan: el8Plan}}})
	var res WatchResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	if len(res.Started) != 0 || !slices.Equal(res.Problems, []string{"list source c8s: repodata/primary.xml.gz: not gzip"}) {
		t.Errorf("result %+v: want nothing started and the listing's problem", res)
	}
}

// TestKabiDrift runs the workflow with one arch whose kernel cannot be
// fetched: the check still runs, the problem is in its input, the report
// is published alone and the search attributes say drift and the broken count.
func TestKabiDrift(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.SetTestTimeout(30 * time.Second)
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("FetchSRPM", mock.Anything, mock.Anything).Return(func(_ context.Context, in pipeline.FetchInput) (pipeline.Fetched, error) {
		if in.Package.Arch == "aarch64" {
			return pipeline.Fetched{}, temporal.NewNonRetryableApplicationError("fetch kernel-core: signature by unknown key", activities.ErrSignature, errors.New("x"))
		}
		return pipeline.Fetched{Artifact: art(in.Package.Location)}, nil
	})
	var check pipeline.DriftCheckInput
	env.OnActivity("DriftCheck", mock.Anything, mock.Anything).Return(func(_ context.Context, in pipeline.DriftCheckInput) (pipeline.DriftSummary, error) {
		check = in
		return pipeline.DriftSummary{Report: art("drift.json"), Broken: 1, Unknown: 1, Kmods: []pipeline.DriftKmod{
			{Name: "foo", Arch: "x86_64", State: "broken", Breaks: []string{"misc_register (crc)"}},
			{Name: "foo", Arch: "aarch64", State: "unknown", Problem: "kernel: fetch kernel-core: signature by unknown key"}}}, nil
	})
	var reqs []pipeline.PublishRequest
	env.OnActivity("RequestPublish", mock.Anything, mock.Anything).Return(func(_ context.Context, req pipeline.PublishRequest) error {
		reqs = append(reqs, req)
		env.SignalWorkflow(pipeline.PublishedSignal, pipeline.PublishResult{ID: req.ID, Committed: true})
		return nil
	})
	var failed []int64
	env.OnUpsertTypedSearchAttributes(mock.Anything).Run(func(args mock.Arguments) {
		sa := args.Get(0).(temporal.SearchAttributes)
		if v, _ := sa.GetKeyword(KabiStageKey); v != "drift" {
			t.Errorf("KabiStage %q", v)
		}
		n, _ := sa.GetInt64(KmodsFailedKey)
		failed = append(failed, n)
	}).Return(nil)
	plan := el8Plan
	plan.Kmods = []pipeline.KmodSpec{{Name: "foo"}}
	env.ExecuteWorkflow(KabiDrift, DriftInput{KernelNVR: "4.18.0-500.el8", Source: "c8s", Plan: plan,
		Packages: []pipeline.SourcePackage{core("4.18.0", "500.el8", "x86_64"), core("4.18.0", "500.el8", "aarch64")}})
	var st DriftStatus
	if err := env.GetWorkflowResult(&st); err != nil {
		t.Fatal(err)
	}
	if len(check.Kernel["x86_64"]) != 1 || len(check.Kernel["aarch64"]) != 0 ||
		!strings.Contains(check.KernelProblems["aarch64"], "signature by unknown key") {
		t.Errorf("check input %+v", check)
	}
	if len(reqs) != 1 || len(reqs[0].Add) != 0 || len(reqs[0].Drift) != 1 || reqs[0].Drift[0].KernelNVR != "4.18.0-500.el8" ||
		reqs[0].Repository != "el8" || reqs[0].Requester != "default-test-workflow-id" && reqs[0].Requester == "" {
		t.Errorf("publish requests %+v: want one adding no package, with the report", reqs)
	}
	if st.Step != DriftDone || st.Broken != 1 || st.ReportKey != "drift/4.18.0-500.el8.json" || st.Publish == nil {
		t.Errorf("status %+v", st)
	}
	if !slices.Equal(failed, []int64{0, 1}) {
		t.Errorf("KmodsFailed went %v, want [0 1]", failed)
	}
}
