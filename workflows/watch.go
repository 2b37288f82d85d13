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
// streams and starts a KernelRebuild for each, newest first; for the
// streams' reference kernels at the source it starts a KabiDrift each
// (drift/<stream>/<nvr>), and a kernel a reference matches is not rebuilt. Rebuilds are
// child workflows with ID kernel/<nvr>, abandoned when the watch ends, and
// started with the reuse policy RejectDuplicate: a kernel seen again (built,
// running, or failed) is not started again; `kabiforge rebuild` retries a
// failed one by hand.
func KernelWatch(ctx workflow.Context, in WatchInput) (WatchResult, error) {
	var a *activities.Activities
	res := WatchResult{Started: []string{}, Skipped: []string{}}
	lctx := lightCtx(ctx, Timeouts{}, "")
	if len(in.Streams) > 0 {
		var pkgs []pipeline.SourcePackage
		if err := workflow.ExecuteActivity(lctx, a.ListSource, in.Source).Get(ctx, &pkgs); err != nil {
			return res, err
		}
		for _, c := range Candidates(pkgs, in.Streams) {
			if referenced(in.References, c.Kernel) {
				continue
			}
			err := startChild(ctx, &res, pipeline.RebuildID(c.Kernel), c.Plan.ControlQueue, kernelVR(c.Kernel), pipeline.KernelRebuildWorkflow, c)
			if err != nil {
				return res, err
			}
		}
	}
	if len(in.References) == 0 {
		return res, nil
	}
	var listing pipeline.Listing
	if err := workflow.ExecuteActivity(lctx, a.ListReferences, in.Source).Get(ctx, &listing); err != nil {
		return res, err
	}
	drifts := DriftCandidates(listing, in.References)
	if len(drifts) == 0 {
		res.Problems = listing.Problems
	}
	for _, d := range drifts {
		d.Source = in.Source
		err := startChild(ctx, &res, pipeline.DriftID(d.Plan.Stream, d.KernelNVR), d.Plan.ControlQueue, d.KernelNVR, pipeline.KabiDriftWorkflow, d)
		if err != nil {
			return res, err
		}
	}
	return res, nil
}

// startChild starts a child workflow the watch abandons, with the reuse
// policy RejectDuplicate: an ID seen before is recorded as skipped.
func startChild(ctx workflow.Context, res *WatchResult, id, queue, kernelVR, name string, arg any) error {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID:            id,
		TaskQueue:             queue,
		ParentClosePolicy:     enumspb.PARENT_CLOSE_POLICY_ABANDON,
		WorkflowIDReusePolicy: enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE,
		TypedSearchAttributes: temporal.NewSearchAttributes(KernelNVRKey.ValueSet(kernelVR)),
	})
	f := workflow.ExecuteChildWorkflow(cctx, name, arg)
	err := f.GetChildWorkflowExecution().Get(ctx, nil)
	var dup *temporal.ChildWorkflowExecutionAlreadyStartedError
	switch {
	case errors.As(err, &dup):
		res.Skipped = append(res.Skipped, id)
	case err != nil:
		return err
	default:
		res.Started = append(res.Started, id)
	}
	return nil
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
