package workflows

import (
	"context"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// publishEnv runs RepoPublish with a Publish activity that records the
// order of requests and fails the test if two ever overlap.
type publishEnv struct {
	env      *testsuite.TestWorkflowEnvironment
	mu       sync.Mutex
	applied  []string
	active   int
	overlap  bool
	answered map[string][]string // requester -> request IDs answered
}

func newPublishEnv() *publishEnv {
	var s testsuite.WorkflowTestSuite
	p := &publishEnv{env: s.NewTestWorkflowEnvironment(), answered: map[string][]string{}}
	Register(p.env)
	p.env.RegisterActivity(&activities.Activities{})
	p.env.OnActivity("Publish", mock.Anything, mock.Anything).Return(func(_ context.Context, req pipeline.PublishRequest) (pipeline.PublishResult, error) {
		p.mu.Lock()
		p.active++
		p.overlap = p.overlap || p.active > 1
		p.mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		p.mu.Lock()
		p.active--
		p.applied = append(p.applied, req.ID)
		p.mu.Unlock()
		return pipeline.PublishResult{ID: req.ID, Committed: true}, nil
	})
	p.env.OnSignalExternalWorkflow(mock.Anything, mock.Anything, "", pipeline.PublishedSignal, mock.Anything).Return(
		func(_, workflowID, _, _ string, arg any) error {
			p.answered[workflowID] = append(p.answered[workflowID], arg.(pipeline.PublishResult).ID)
			return nil
		})
	return p
}

func req(id, requester string) pipeline.PublishRequest {
	return pipeline.PublishRequest{ID: id, Repository: "kabiforge", Requester: requester}
}

func TestRepoPublishAppliesRequestsOneAtATimeAndAnswers(t *testing.T) {
	p := newPublishEnv()
	for i, r := range []pipeline.PublishRequest{req("a", "kernel/A"), req("b", "kernel/B"), req("a", "kernel/A"), req("c", "")} {
		p.env.RegisterDelayedCallback(func() { p.env.SignalWorkflow(pipeline.PublishSignal, r) }, time.Duration(i)*time.Millisecond)
	}
	p.env.ExecuteWorkflow(RepoPublish, pipeline.RepoPublishState{Repository: "kabiforge", Idle: time.Minute})
	if err := p.env.GetWorkflowError(); err != nil {
		t.Fatalf("workflow: %v", err)
	}
	if !slices.Equal(p.applied, []string{"a", "b", "c"}) || p.overlap {
		t.Errorf("applied %v (overlap %v), want a, b, c one at a time; a sent twice applied once", p.applied, p.overlap)
	}
	if !slices.Equal(p.answered["kernel/A"], []string{"a", "a"}) || !slices.Equal(p.answered["kernel/B"], []string{"b"}) {
		t.Errorf("answers %v", p.answered)
	}
}

func TestRepoPublishContinuesAsNewAfterItsQuota(t *testing.T) {
	p := newPublishEnv()
	p.env.ExecuteWorkflow(RepoPublish, pipeline.RepoPublishState{Repository: "kabiforge", RequestsPerRun: 2,
		Pending: []pipeline.PublishRequest{req("a", ""), req("b", ""), req("c", "")}})
	err := p.env.GetWorkflowError()
	if !workflow.IsContinueAsNewError(err) {
		t.Fatalf("err = %v, want continue-as-new", err)
	}
	if !slices.Equal(p.applied, []string{"a", "b", "c"}) {
		// What is pending is applied before continuing as new.
		t.Errorf("applied %v", p.applied)
	}
}
