package workflows

import (
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/pipeline"
)

// gateFacts collects what the gate decides on from the rebuild's state.
func (r *rebuild) gateFacts() pipeline.GateFacts {
	f := pipeline.GateFacts{KernelNVR: r.vr, NoBoot: map[string]string{}, Held: r.st.Kabi.Held,
		StablelistChanged: r.st.Kabi.StablelistChanged, KabiChanged: r.st.Kabi.Changed + r.st.Kabi.Removed}
	for _, arch := range r.in.Plan.Arches {
		f.Arches = append(f.Arches, arch.Name)
		if u := r.st.Boot[arch.Name]; u.State == BootNoBoot {
			f.NoBoot[arch.Name] = u.Reason
		}
	}
	for _, k := range r.in.Plan.Kmods {
		if u := r.st.Kmods[k.Name]; u.State == pipeline.StateFailed {
			f.Failed = append(f.Failed, pipeline.KmodFailure{Name: k.Name, Reason: u.Reason})
		}
	}
	return f
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
		why := pipeline.GateReasons(r.in.Plan.Gate.On, r.gateFacts())
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
