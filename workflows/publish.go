package workflows

import (
	"fmt"

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

// signAndPublish signs the new packages and hands them to RepoPublish,
// then waits for its answer.
func (r *rebuild) signAndPublish() (RebuildResult, error) {
	var a *activities.Activities
	var items []toPublish
	for _, arch := range r.in.Plan.Arches {
		b := r.kernel[arch.Name]
		f := r.fetched
		for _, p := range b.RPMs {
			items = append(items, toPublish{rpm: p, build: b, kind: pipeline.KindKernel, arch: arch.Name, upstream: &f})
		}
	}
	var excluded []string
	for _, k := range r.in.Plan.Kmods {
		w := r.kmods[k.Name]
		switch r.st.Kmods[k.Name].State {
		case pipeline.StateExcluded, pipeline.StateFailed:
			excluded = append(excluded, k.Name)
			continue
		}
		for _, arch := range r.in.Plan.Arches {
			if b, ok := w.built[arch.Name]; ok {
				for _, p := range b.RPMs {
					items = append(items, toPublish{rpm: p, build: b, kind: pipeline.KindKmod, kmod: k.Name, arch: arch.Name, upstream: w.upstream})
				}
			}
		}
	}

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
