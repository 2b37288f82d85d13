package workflows

import (
	"errors"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kernelnvr"
)

// KernelWatch lists a source's packages, keeps the kernels of the tracked
// streams and starts a KernelRebuild for each, newest first. Rebuilds are
// child workflows with ID kernel/<nvr>, abandoned when the watch ends, and
// started with the reuse policy RejectDuplicate: a kernel seen again (built,
// running, or failed) is not started again; `kabiforge rebuild` retries a
// failed one by hand.
func KernelWatch(ctx workflow.Context, in WatchInput) (WatchResult, error) {
	var a *activities.Activities
	res := WatchResult{Started: []string{}, Skipped: []string{}}
	var pkgs []pipeline.SourcePackage
	lctx := lightCtx(ctx, Timeouts{}, "")
	if err := workflow.ExecuteActivity(lctx, a.ListSource, in.Source).Get(ctx, &pkgs); err != nil {
		return res, err
	}
	for _, c := range Candidates(pkgs, in.Streams) {
		id := pipeline.RebuildID(c.Kernel)
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
			WorkflowID:            id,
			TaskQueue:             c.Plan.ControlQueue,
			ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
			WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
			TypedSearchAttributes: temporal.NewSearchAttributes(KernelNVRKey.ValueSet(kernelVR(c.Kernel))),
		})
		f := workflow.ExecuteChildWorkflow(cctx, pipeline.KernelRebuildWorkflow, c)
		err := f.GetChildWorkflowExecution().Get(ctx, nil)
		var dup *temporal.ChildWorkflowExecutionAlreadyStartedError
		switch {
		case errors.As(err, &dup):
			res.Skipped = append(res.Skipped, id)
		case err != nil:
			return res, err
		default:
			res.Started = append(res.Started, id)
		}
	}
	return res, nil
}

// Candidates returns the rebuilds the packages call for: the source
// packages of each stream's kernel, newest first in rpm's version order,
// one per NVR (the first stream that tracks a kernel wins).
func Candidates(pkgs []pipeline.SourcePackage, streams []WatchStream) []RebuildInput {
	type cand struct {
		nvr kernelnvr.NVR
		in  RebuildInput
	}
	var cs []cand
	seen := map[string]bool{}
	for _, s := range streams {
		rule := kernelnvr.Rule{Version: s.Version, Release: s.Release}
		for _, p := range pkgs {
			if p.Arch != "src" && p.Arch != "nosrc" && p.Arch != "" {
				continue
			}
			n, err := kernelnvr.Parse(p.NVR())
			if err != nil || !rule.Match(n) || seen[p.NVR()] {
				continue
			}
			seen[p.NVR()] = true
			cs = append(cs, cand{nvr: n, in: RebuildInput{Kernel: p, Plan: s.Plan}})
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return kernelnvr.Compare(b.nvr, a.nvr) })
	out := make([]RebuildInput, len(cs))
	for i, c := range cs {
		out[i] = c.in
	}
	return out
}

// kernelVR is the KernelNVR search attribute of a kernel: version-release.
func kernelVR(p pipeline.SourcePackage) string { return p.Version + "-" + p.Release }
