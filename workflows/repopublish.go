package workflows

import (
	"time"

	"github.com/kabiforge/kabiforge/config"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// RepoPublish tuning, variables of the state so tests can shrink them.
const (
	// DefaultRequestsPerRun is how many requests one run applies before it
	// continues as new, keeping its history small.
	DefaultRequestsPerRun = 50
	// DefaultIdle is how long a run waits for a request before it ends; the
	// next request starts it again (signal-with-start).
	DefaultIdle = time.Hour
	// doneKept is how many applied request IDs are remembered.
	doneKept = 200
)

// RepoPublish serialises the publishes of one repository (workflow ID
// repo/<name>): requests arrive by signal (signal-with-start through the
// RequestPublish activity) and are applied one at a time by the Publish
// activity; each requester is signalled the result. A request ID already
// applied is answered from memory, not applied again. After
// RequestsPerRun requests it continues as new, carrying what is pending.
func RepoPublish(ctx workflow.Context, st pipeline.RepoPublishState) error {
	var a *activities.Activities
	perRun := st.RequestsPerRun
	if perRun <= 0 {
		perRun = DefaultRequestsPerRun
	}
	idle := orDefault(st.Idle, DefaultIdle)
	ch := workflow.GetSignalChannel(ctx, pipeline.PublishSignal)
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: config.DefaultActivityTimeout,
		HeartbeatTimeout:    orDefault(st.HeartbeatTimeout, config.DefaultHeartbeat),
		RetryPolicy:         retry,
	})
	drain := func() {
		var req pipeline.PublishRequest
		for ch.ReceiveAsync(&req) {
			st.Pending = append(st.Pending, req)
			req = pipeline.PublishRequest{}
		}
	}
	for applied := 0; ; {
		drain()
		if len(st.Pending) == 0 {
			if applied >= perRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested() {
				return workflow.NewContinueAsNewError(ctx, pipeline.RepoPublishWorkflow, st)
			}
			if !waitSignal(ctx, ch, idle) {
				drain()
				if len(st.Pending) == 0 {
					return nil
				}
			}
			continue
		}
		req := st.Pending[0]
		st.Pending = st.Pending[1:]
		res, seen := findDone(st.Done, req.ID)
		if !seen {
			err := workflow.ExecuteActivity(actx, a.Publish, req).Get(ctx, &res)
			if err != nil {
				res = pipeline.PublishResult{ID: req.ID, Error: reason(err)}
			}
			st.Done = append(st.Done, res)
			if len(st.Done) > doneKept {
				st.Done = st.Done[len(st.Done)-doneKept:]
			}
			applied++
		}
		if req.Requester != "" {
			// A requester that has gone away is no reason to stop.
			_ = workflow.SignalExternalWorkflow(ctx, req.Requester, "", pipeline.PublishedSignal, res).Get(ctx, nil)
		}
	}
}

// waitSignal waits until ch has a message (left unread) or idle passes.
func waitSignal(ctx workflow.Context, ch workflow.ReceiveChannel, idle time.Duration) bool {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	got := false
	sel := workflow.NewSelector(ctx)
	sel.AddReceive(ch, func(workflow.ReceiveChannel, bool) { got = true })
	sel.AddFuture(workflow.NewTimer(tctx, idle), func(workflow.Future) {})
	sel.Select(ctx)
	return got
}

func findDone(done []pipeline.PublishResult, id string) (pipeline.PublishResult, bool) {
	for _, r := range done {
		if r.ID == id {
			return r, true
		}
	}
	return pipeline.PublishResult{}, false
}
