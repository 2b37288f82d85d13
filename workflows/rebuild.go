package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// KernelRebuild takes one kernel from its upstream SRPM to a signed,
// published repository: fetch and verify → build per arch (child
// PackageBuilds in parallel) → kABI analysis → rebuild the kmods that broke
// (or all, by policy) → verify every kmod to publish loads on the kernel →
// gate → sign → publish through RepoPublish. Search attributes and the
// status query follow every stage; approve, reject and retry-kmod steer the
// gate.
func KernelRebuild(ctx workflow.Context, in RebuildInput) (RebuildResult, error) {
	r := newRebuild(ctx, in)
	if err := workflow.SetQueryHandler(ctx, pipeline.StatusQuery, func() (Status, error) { return r.st, nil }); err != nil {
		return RebuildResult{}, err
	}
	res, err := r.run()
	if err != nil {
		r.st.Reason = reason(err)
		r.stage(pipeline.StageFailed)
		return RebuildResult{Stage: pipeline.StageFailed, Reason: r.st.Reason}, err
	}
	return res, nil
}

// rebuild is one KernelRebuild's state.
type rebuild struct {
	ctx    workflow.Context
	in     RebuildInput
	vr     string
	label  string
	st     Status
	broken bool
	// fetched is the verified upstream SRPM.
	fetched pipeline.Fetched
	// kernel holds each arch's kernel build.
	kernel map[string]pipeline.BuildOutput
	kmods  map[string]*kmodWork
}

// kmodWork is what is known of one kmod in this rebuild.
type kmodWork struct {
	spec      pipeline.KmodSpec
	published map[string]*pipeline.Published // per arch
	rebuild   bool
	upstream  *pipeline.Fetched
	built     map[string]pipeline.BuildOutput // per arch, when rebuilt
	attempts  int
}

func newRebuild(ctx workflow.Context, in RebuildInput) *rebuild {
	vr := kernelVR(in.Kernel)
	r := &rebuild{ctx: ctx, in: in, vr: vr, label: in.Kernel.NVR(),
		st:     Status{KernelNVR: vr, Stage: pipeline.StageFetching, Arches: map[string]Unit{}, Kmods: map[string]Unit{}, RepoURL: in.Plan.RepoURL},
		kernel: map[string]pipeline.BuildOutput{}, kmods: map[string]*kmodWork{}}
	for _, a := range in.Plan.Arches {
		r.st.setArch(a.Name, pipeline.StatePending, "")
	}
	for _, k := range in.Plan.Kmods {
		r.kmods[k.Name] = &kmodWork{spec: k, published: map[string]*pipeline.Published{}, built: map[string]pipeline.BuildOutput{}}
		r.st.setKmod(k.Name, pipeline.StatePending, "")
	}
	return r
}

func (r *rebuild) light() workflow.Context {
	return lightCtx(r.ctx, r.in.Plan.Timeouts, r.in.Plan.ControlQueue)
}

// stage records the stage and upserts the search attributes.
func (r *rebuild) stage(s pipeline.Stage) {
	r.st.Stage = s
	err := workflow.UpsertTypedSearchAttributes(r.ctx,
		KernelNVRKey.ValueSet(r.vr), KabiStageKey.ValueSet(string(s)),
		KabiBrokenKey.ValueSet(r.broken), KmodsFailedKey.ValueSet(int64(r.st.kmodsFailed())))
	if err != nil {
		workflow.GetLogger(r.ctx).Warn("upsert search attributes", "error", err)
	}
	workflow.GetLogger(r.ctx).Info("stage", "KernelNVR", r.vr, "KabiStage", s, "KmodsFailed", r.st.kmodsFailed())
}

func (r *rebuild) run() (RebuildResult, error) {
	var a *activities.Activities
	r.stage(pipeline.StageFetching)
	err := workflow.ExecuteActivity(r.light(), a.FetchSRPM, pipeline.FetchInput{Source: r.in.Plan.Source, Package: r.in.Kernel}).Get(r.ctx, &r.fetched)
	if err != nil {
		return RebuildResult{}, err
	}
	if err := r.buildKernel(); err != nil {
		return RebuildResult{}, err
	}
	if err := r.analyze(); err != nil {
		return RebuildResult{}, err
	}
	r.stage(pipeline.StageRebuildingKmods)
	r.rebuildKmods(r.pendingKmods())
	if err := r.verify(); err != nil {
		return RebuildResult{}, err
	}
	if err := r.bootTest(); err != nil {
		return RebuildResult{}, err
	}
	if done, res, err := r.gate(); done || err != nil {
		return res, err
	}
	return r.signAndPublish()
}

// buildKernel builds the kernel on every arch in parallel.
func (r *rebuild) buildKernel() error {
	r.stage(pipeline.StageBuildingKernel)
	futures := map[string]workflow.ChildWorkflowFuture{}
	for _, arch := range r.in.Plan.Arches {
		futures[arch.Name] = r.startBuild(r.label, arch, pipeline.BuildInput{Label: r.label, SRPM: r.fetched.Artifact, Arch: arch.Name,
			Stream: r.in.Plan.Stream})
		r.st.setArch(arch.Name, pipeline.StateBuilding, "")
	}
	var firstErr error
	for _, arch := range r.in.Plan.Arches {
		var out pipeline.BuildOutput
		if err := futures[arch.Name].Get(r.ctx, &out); err != nil {
			r.st.setArch(arch.Name, pipeline.StateFailed, reason(err))
			if firstErr == nil {
				firstErr = err // names the build's workflow ID and the failure
			}
			continue
		}
		r.kernel[arch.Name] = out
		r.st.setArch(arch.Name, pipeline.StateBuilt, "")
	}
	return firstErr
}

// startBuild starts a child PackageBuild of one package on one arch.
func (r *rebuild) startBuild(label string, arch Arch, b pipeline.BuildInput) workflow.ChildWorkflowFuture {
	return r.startBuildCtx(r.ctx, label, arch, b)
}

// analyze runs the kABI analysis per arch and decides which kmods to rebuild.
func (r *rebuild) analyze() error {
	var a *activities.Activities
	r.stage(pipeline.StageAnalyzing)
	var analyses []pipeline.Analysis
	for _, arch := range r.in.Plan.Arches {
		var an pipeline.Analysis
		in := pipeline.AnalyzeInput{KernelNVR: r.vr, Arch: arch.Name, Repository: r.in.Plan.Repository,
			Kernel: r.kernel[arch.Name].RPMs, Kmods: r.in.Plan.Kmods, Policy: r.in.Plan.KabiPolicy}
		if err := workflow.ExecuteActivity(r.light(), a.Analyze, in).Get(r.ctx, &an); err != nil {
			return err
		}
		analyses = append(analyses, an)
	}
	d := pipeline.DecideAnalysis(r.in.Plan.Kmods, analyses)
	r.st.Kabi, r.broken = d.Kabi, r.broken || d.Broken
	for _, k := range r.in.Plan.Kmods {
		w, m := r.kmods[k.Name], d.Kmods[k.Name]
		w.published, w.rebuild = m.Published, w.rebuild || m.Rebuild != ""
		u := r.st.Kmods[k.Name]
		u.Breaks, u.Greylist = m.Breaks, m.Greylist
		if m.Rebuild != "" {
			u.Reason = m.Rebuild
		}
		r.st.Kmods[k.Name] = u
		if !w.rebuild {
			r.st.setKmod(k.Name, pipeline.StateCompatible, "CRC-compatible with "+r.vr+", "+notBootTested)
		}
	}
	r.memo()
	return nil
}

// memo shows the kABI summary in the workflow's memo.
func (r *rebuild) memo() {
	k := r.st.Kabi
	summary := fmt.Sprintf("vs %s: %d added, %d removed, %d changed, %d stablelisted changed; broken kmods: %s",
		orNone(k.Previous), k.Added, k.Removed, k.Changed, len(k.StablelistChanged), orNone(strings.Join(k.Broken, ", ")))
	var keys []string
	for _, rep := range k.Reports {
		keys = append(keys, rep.Key)
	}
	if err := workflow.UpsertMemo(r.ctx, map[string]any{"kabi": summary, "reports": keys}); err != nil {
		workflow.GetLogger(r.ctx).Warn("upsert memo", "error", err)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func (r *rebuild) pendingKmods() []string {
	var names []string
	for _, k := range r.in.Plan.Kmods {
		if r.kmods[k.Name].rebuild {
			names = append(names, k.Name)
		}
	}
	return names
}
