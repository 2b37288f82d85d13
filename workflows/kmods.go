package workflows

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/kabiforge/kabiforge/config"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// rebuildKmods rebuilds the named kmods, at most KmodParallel at once.
func (r *rebuild) rebuildKmods(names []string) {
	n := r.in.Plan.KmodParallel
	if n <= 0 {
		n = config.DefaultKmodParallel
	}
	sem := workflow.NewSemaphore(r.ctx, int64(n))
	wg := workflow.NewWaitGroup(r.ctx)
	for _, name := range names {
		wg.Add(1)
		workflow.Go(r.ctx, func(ctx workflow.Context) {
			defer wg.Done()
			if err := sem.Acquire(ctx, 1); err != nil {
				return
			}
			defer sem.Release(1)
			r.rebuildKmod(ctx, name)
		})
	}
	wg.Wait(r.ctx)
}

// rebuildKmod retargets one kmod to the new kernel and builds it on every
// arch; a failure marks the kmod failed with its reason.
func (r *rebuild) rebuildKmod(ctx workflow.Context, name string) {
	var a *activities.Activities
	w := r.kmods[name]
	w.attempts++
	w.built = map[string]pipeline.BuildOutput{}
	r.st.setKmod(name, pipeline.StateBuilding, r.st.Kmods[name].Reason)
	srpm, ok := r.kmodSource(w)
	if !ok {
		if w.upstream == nil {
			var f pipeline.Fetched
			in := pipeline.KmodSourceInput{Source: w.spec.Source, Package: w.spec.Package}
			if err := workflow.ExecuteActivity(lightCtx(ctx, r.in.Plan.Timeouts, r.in.Plan.ControlQueue), a.FetchNewest, in).Get(ctx, &f); err != nil {
				r.st.setKmod(name, pipeline.StateFailed, "fetch source: "+reason(err))
				return
			}
			w.upstream = &f
		}
		srpm = w.upstream.Artifact
	}
	label := w.spec.Package + "-for-" + r.vr
	if w.attempts > 1 {
		label += fmt.Sprintf("-retry%d", w.attempts-1)
	}
	futures := map[string]workflow.ChildWorkflowFuture{}
	for _, arch := range r.in.Plan.Arches {
		futures[arch.Name] = r.startBuildCtx(ctx, label, arch, pipeline.BuildInput{Label: label, SRPM: srpm,
			Stream: r.in.Plan.Stream, RetargetKernel: r.vr, Deps: r.kernel[arch.Name].RPMs})
	}
	var failed []string
	for _, arch := range r.in.Plan.Arches {
		var out pipeline.BuildOutput
		if err := futures[arch.Name].Get(ctx, &out); err != nil {
			failed = append(failed, arch.Name+": "+reason(err))
			continue
		}
		w.built[arch.Name] = out
	}
	if len(failed) > 0 {
		r.st.setKmod(name, pipeline.StateFailed, "rebuild failed: "+strings.Join(failed, "; "))
		return
	}
	r.st.setKmod(name, pipeline.StateRebuilt, "rebuilt for "+r.vr)
}

// kmodSource is the SRPM a kmod is retargeted from: its newest published
// build's source package, so releases keep climbing; false when it has none.
func (r *rebuild) kmodSource(w *kmodWork) (pipeline.Artifact, bool) {
	for _, arch := range r.in.Plan.Arches {
		if p := w.published[arch.Name]; p != nil && p.SRPM.Key != "" {
			return p.SRPM, true
		}
	}
	return pipeline.Artifact{}, false
}

func (r *rebuild) startBuildCtx(ctx workflow.Context, label string, arch Arch, b pipeline.BuildInput) workflow.ChildWorkflowFuture {
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{
		WorkflowID: pipeline.BuildID(label, arch.Name),
		TaskQueue:  r.in.Plan.ControlQueue,
	})
	b.Arch = arch.Name
	return workflow.ExecuteChildWorkflow(cctx, pipeline.PackageBuildWorkflow,
		PackageBuildInput{Build: b, Queue: arch.Queue, Timeouts: r.in.Plan.Timeouts})
}

// kmodRPMs returns the packages of a kmod to publish or keep on an arch.
func (r *rebuild) kmodRPMs(w *kmodWork, arch string) []pipeline.Artifact {
	if out, ok := w.built[arch]; ok {
		return out.RPMs
	}
	if !w.rebuild && w.published[arch] != nil {
		return w.published[arch].RPMs
	}
	return nil
}

// verify checks under the stream's kABI policy that every kmod to publish
// (rebuilt or kept) loads on the new kernel; one that does not is marked
// failed. Each verified kmod's greylist count becomes the one of the build
// to publish (the most of its arches).
func (r *rebuild) verify() error {
	var a *activities.Activities
	r.stage(pipeline.StageVerifying)
	greylist := map[string]int{}
	defer func() {
		for _, name := range slices.Sorted(maps.Keys(greylist)) {
			u := r.st.Kmods[name]
			u.Greylist = greylist[name]
			r.st.Kmods[name] = u
		}
	}()
	for _, arch := range r.in.Plan.Arches {
		in := pipeline.CheckInput{Kernel: r.kernel[arch.Name].RPMs, Kmods: map[string][]pipeline.Artifact{},
			Policy: r.in.Plan.KabiPolicy}
		for _, k := range r.in.Plan.Kmods {
			if u := r.st.Kmods[k.Name]; u.State == pipeline.StateFailed || u.State == pipeline.StateExcluded {
				continue
			}
			if rpms := r.kmodRPMs(r.kmods[k.Name], arch.Name); len(rpms) > 0 {
				in.Kmods[k.Name] = rpms
			}
		}
		if len(in.Kmods) == 0 {
			continue
		}
		var vs []pipeline.KmodVerdict
		if err := workflow.ExecuteActivity(r.light(), a.CheckKmods, in).Get(r.ctx, &vs); err != nil {
			return err
		}
		for _, v := range vs {
			greylist[v.Name] = max(greylist[v.Name], v.Greylist)
			if reason, ok := verifyFailure(v, r.vr, arch.Name); ok {
				r.st.setKmod(v.Name, pipeline.StateFailed, reason)
			}
		}
	}
	return nil
}

// verifyFailure is why a kmod fails pre-publish verification on an arch:
// it does not load on the kernel, or a module's signature does not verify
// against the repository's certificate; false when it passes.
func verifyFailure(v pipeline.KmodVerdict, vr, arch string) (string, bool) {
	switch {
	case !v.Compatible:
		return fmt.Sprintf("does not load on %s (%s): %s", vr, arch, strings.Join(v.Breaks, ", ")), true
	case len(v.BadSignatures) > 0:
		return fmt.Sprintf("module signature (%s): %s", arch, strings.Join(v.BadSignatures, "; ")), true
	}
	return "", false
}
