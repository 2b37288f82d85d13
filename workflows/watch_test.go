package workflows

import (
	"context"
	"slices"
	"testing"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

func srpm(name, version, release string) pipeline.SourcePackage {
	return pipeline.SourcePackage{Name: name, Version: version, Release: release, Arch: "src",
		Location: name + "-" + version + "-" + release + ".src.rpm"}
}

var listing = []pipeline.SourcePackage{
	srpm("kernel", "4.18.0", "80.el8"),
	srpm("kernel", "4.18.0", "80.11.2.el8_0"),
	srpm("kernel", "4.18.0", "80.1.2.el8_0"),
	srpm("kernel", "5.14.0", "70.el9"),
	srpm("kernel", "4.18.0", "80.el8"), // listed twice
	srpm("kmod-fragiledrv", "2.3", "1.el8"),
	{Name: "kernel", Version: "4.18.0", Release: "80.2.1.el8_0", Arch: "x86_64"}, // a binary package
}

func TestCandidatesKeepTrackedStreamsNewestFirst(t *testing.T) {
	el8 := WatchStream{Version: "4.18.0", Release: "*.el8*", Plan: Plan{Stream: "el8"}}
	got := Candidates(listing, []WatchStream{el8})
	var ids []string
	for _, c := range got {
		ids = append(ids, pipeline.RebuildID(c.Kernel))
		if c.Plan.Stream != "el8" {
			t.Errorf("%s has plan %+v", c.Kernel.NVR(), c.Plan)
		}
	}
	want := []string{"kernel/4.18.0-80.11.2.el8_0", "kernel/4.18.0-80.1.2.el8_0", "kernel/4.18.0-80.el8"}
	if !slices.Equal(ids, want) {
		t.Errorf("candidates %v, want %v (rpm order, newest first, el9 and binaries dropped)", ids, want)
	}
	el9 := WatchStream{Version: "5.14.0", Release: "*.el9*", Plan: Plan{Stream: "el9"}}
	if got := Candidates(listing, []WatchStream{el8, el9}); len(got) != 4 || got[0].Plan.Stream != "el9" {
		t.Errorf("two streams: %d candidates, first %+v", len(got), got[0])
	}
	if got := Candidates(listing, nil); len(got) != 0 {
		t.Errorf("no streams: %d candidates", len(got))
	}
}

func TestKernelWatchStartsOneRebuildPerKernel(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	Register(env)
	env.RegisterActivity(&activities.Activities{})
	env.OnActivity("ListSource", mock.Anything, "upstream").Return(listing, nil)
	var started []string
	env.OnWorkflow(pipeline.KernelRebuildWorkflow, mock.Anything, mock.Anything).Return(func(_ context.Context, in RebuildInput) (RebuildResult, error) {
		return RebuildResult{Stage: pipeline.StagePublished}, nil
	})
	env.SetOnChildWorkflowStartedListener(func(info *workflowInfo, _ wfContext, _ encodedValues) {
		started = append(started, info.WorkflowExecution.ID)
	})
	env.ExecuteWorkflow(KernelWatch, WatchInput{Source: "upstream",
		Streams: []WatchStream{{Version: "4.18.0", Release: "*.el8*", Plan: Plan{ControlQueue: "kabiforge"}}}})
	if err := env.GetWorkflowError(); err != nil {
		t.Fatal(err)
	}
	var res WatchResult
	if err := env.GetWorkflowResult(&res); err != nil {
		t.Fatal(err)
	}
	want := []string{"kernel/4.18.0-80.11.2.el8_0", "kernel/4.18.0-80.1.2.el8_0", "kernel/4.18.0-80.el8"}
	if !slices.Equal(res.Started, want) || !slices.Equal(started, want) {
		t.Errorf("started %v (listener %v), want %v", res.Started, started, want)
	}
}
