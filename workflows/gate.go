package workflows

import (
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/pipeline"
)

// Gate conditions (config.GateCondition values).
const (
	GateKmodFailed        = "kmod-failed"
	GateStablelistChanged = "stablelist-changed"
	GateKabiChanged       = "kabi-changed"
	GateAlways            = "always"
)

// gateReasons says why the kernel must wait for an operator, per policy.
func (r *rebuild) gateReasons() []string {
	on := r.in.Plan.Gate.On
	why := r.bootGateReasons()
	if slices.Contains(on, GateAlways) {
		why = append(why, "every kernel waits for approval (gate: always)")
	}
	if slices.Contains(on, GateKmodFailed) {
		for _, k := range r.in.Plan.Kmods {
			if u := r.st.Kmods[k.Name]; u.State == pipeline.StateFailed {
				why = append(why, "kmod "+k.Name+" failed: "+u.Reason)
			}
		}
	}
	for _, h := range r.st.Kabi.Held {
		why = append(why, "kABI policy holds kmod "+h)
	}
	if slices.Contains(on, GateStablelistChanged) && len(r.st.Kabi.StablelistChanged) > 0 {
		why = append(why, "stablelisted symbols changed: "+joinMax(r.st.Kabi.StablelistChanged, 10))
	}
	if slices.Contains(on, GateKabiChanged) && r.st.Kabi.Changed+r.st.Kabi.Removed > 0 {
		why = append(why, "kABI changed")
	}
	return why
}

// gate holds the kernel while gateReasons has any, until approve or reject
// (or the configured timeout). retry-kmod rebuilds a kmod meanwhile; when
// no reason is left the gate opens by itself. done is true when the
// rebuild ends here (rejected).
func (r *rebuild) gate() (done bool, res RebuildResult, err error) {
	approveCh := workflow.GetSignalChannel(r.ctx, pipeline.ApproveSignal)
	rejectCh := workflow.GetSignalChannel(r.ctx, pipeline.RejectSignal)
	retryCh := workflow.GetSignalChannel(r.ctx, pipeline.RetryKmodSignal)
	var deadline time.Time
	if t := r.in.Plan.Gate.Timeout; t > 0 {
		deadline = workflow.Now(r.ctx).Add(t)
	}
	for {
		why := r.gateReasons()
		r.st.Gate = why
		if len(why) == 0 {
			return false, RebuildResult{}, nil
		}
		r.stage(pipeline.StageAwaitingApproval)
		var decision, text string
		sel := workflow.NewSelector(r.ctx)
		sel.AddReceive(approveCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(r.ctx, &text); decision = pipeline.ApproveSignal })
		sel.AddReceive(rejectCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(r.ctx, &text); decision = pipeline.RejectSignal })
		sel.AddReceive(retryCh, func(c workflow.ReceiveChannel, _ bool) { c.Receive(r.ctx, &text); decision = pipeline.RetryKmodSignal })
		tctx, cancel := workflow.WithCancel(r.ctx)
		if !deadline.IsZero() {
			sel.AddFuture(workflow.NewTimer(tctx, deadline.Sub(workflow.Now(r.ctx))), func(workflow.Future) {
				decision, text = r.in.Plan.Gate.TimeoutAction, "gate timeout"
			})
		}
		sel.Select(r.ctx)
		cancel()
		switch decision {
		case pipeline.ApproveSignal:
			r.st.Decision, r.st.Reason = "approved", text
			for _, k := range r.in.Plan.Kmods {
				if r.st.Kmods[k.Name].State == pipeline.StateFailed {
					r.st.setKmod(k.Name, pipeline.StateExcluded, r.st.Kmods[k.Name].Reason)
				}
			}
			return false, RebuildResult{}, nil
		case pipeline.RejectSignal:
			r.st.Decision, r.st.Reason = "rejected", text
			r.stage(pipeline.StageRejected)
			return true, RebuildResult{Stage: pipeline.StageRejected, Reason: text}, nil
		case pipeline.RetryKmodSignal:
			if _, ok := r.kmods[text]; !ok {
				workflow.GetLogger(r.ctx).Warn("retry-kmod: no such kmod", "kmod", text)
				continue
			}
			r.kmods[text].rebuild = true
			r.stage(pipeline.StageRebuildingKmods)
			r.rebuildKmods([]string{text})
			if err := r.verify(); err != nil {
				return true, RebuildResult{}, err
			}
			if err := r.bootTest(); err != nil {
				return true, RebuildResult{}, err
			}
		}
	}
}

func joinMax(s []string, n int) string {
	out := ""
	for i, x := range s {
		if i == n {
			return out + ", …"
		}
		if i > 0 {
			out += ", "
		}
		out += x
	}
	return out
}
