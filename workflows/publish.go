package workflows

import (
	"fmt"
	"strings"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// toPublish is one package to sign and publish, with where it came from.
type toPublish struct {
	rpm      pipeline.Artifact
	build    pipeline.BuildOutput
	kind     pipeline.Kind
	kmod     string
	arch     string
	upstream *pipeline.Fetched
}

// publishSet decides what a rebuild publishes: every arch's kernel
// packages, and the packages of each kmod built for this kernel, unless it
// failed or was excluded at the gate (those come back in excluded, in plan
// order). Kmods kept from an earlier build are already published.
func publishSet(plan Plan, kernel map[string]pipeline.BuildOutput, fetched pipeline.Fetched,
	states map[string]Unit, kmods map[string]*kmodWork) (items []toPublish, excluded []string) {
	for _, arch := range plan.Arches {
		b := kernel[arch.Name]
		for _, p := range b.RPMs {
			items = append(items, toPublish{rpm: p, build: b, kind: pipeline.KindKernel, arch: arch.Name, upstream: &fetched})
		}
	}
	for _, k := range plan.Kmods {
		switch states[k.Name].State {
		case pipeline.StateExcluded, pipeline.StateFailed:
			excluded = append(excluded, k.Name)
			continue
		}
		w := kmods[k.Name]
		for _, arch := range plan.Arches {
			b, ok := w.built[arch.Name]
			if !ok {
				continue
			}
			for _, p := range b.RPMs {
				items = append(items, toPublish{rpm: p, build: b, kind: pipeline.KindKmod, kmod: k.Name, arch: arch.Name, upstream: w.upstream})
			}
		}
	}
	return items, excluded
}

// signAndPublish signs the new packages and hands them to RepoPublish,
// then waits for its answer.
func (r *rebuild) signAndPublish() (RebuildResult, error) {
	var a *activities.Activities
	items, excluded := publishSet(r.in.Plan, r.kernel, r.fetched, r.st.Kmods, r.kmods)

	r.stage(pipeline.StageSigning)
	in := pipeline.SignInput{}
	for _, it := range items {
		in.RPMs = append(in.RPMs, it.rpm)
	}
	var signed pipeline.SignOutput
	if err := workflow.ExecuteActivity(r.light(), a.Sign, in).Get(r.ctx, &signed); err != nil {
		return RebuildResult{}, err
	}
	if len(signed.RPMs) != len(items) {
		return RebuildResult{}, fmt.Errorf("sign returned %d packages for %d", len(signed.RPMs), len(items))
	}

	r.stage(pipeline.StagePublishing)
	info := workflow.GetInfo(r.ctx)
	// The ID names this run by its start time, which (unlike the run ID)
	// replays the same.
	req := pipeline.PublishRequest{ID: fmt.Sprintf("%s@%d", info.WorkflowExecution.ID, info.WorkflowStartTime.UnixNano()),
		Repository: r.in.Plan.Repository, Requester: info.WorkflowExecution.ID, Add: signed.RPMs}
	req.Kernel = r.outcome()
	now := workflow.Now(r.ctx)
	for i, it := range items {
		req.Provenance = append(req.Provenance, pipeline.Provenance{RPM: signed.RPMs[i], SourceRPM: it.build.SRPM,
			UpstreamSRPM: it.upstream, SigningKeyID: signed.KeyID, Builder: it.build.Builder, ConfigHash: r.in.Plan.ConfigHash,
			BuildHost: it.build.Host, Logs: it.build.Logs, KernelNVR: r.vr, Kind: it.kind, Kmod: it.kmod, Time: now,
			BootTest: r.bootRecord(it.arch)})
	}
	res, err := requestPublish(r.ctx, r.light(), req)
	if res.ID != "" {
		r.st.Publish = &res
	}
	if err != nil {
		return RebuildResult{}, err
	}
	r.stage(pipeline.StagePublished)
	r.memo()
	return RebuildResult{Stage: pipeline.StagePublished, Published: &res, Excluded: excluded}, nil
}

// outcome is what the rebuild did with each kmod, for the compatibility page.
func (r *rebuild) outcome() *pipeline.KernelOutcome {
	o := &pipeline.KernelOutcome{KernelNVR: r.vr, Kmods: map[string]pipeline.KmodOutcome{}}
	for name, u := range r.st.Kmods {
		o.Kmods[name] = pipeline.KmodOutcome{State: u.State, Reason: u.Reason, Greylist: u.Greylist}
	}
	for _, rep := range r.st.Kabi.Reports {
		if strings.HasSuffix(rep.Name, ".json") {
			o.Reports = append(o.Reports, rep)
		}
	}
	return o
}
