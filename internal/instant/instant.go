// Package instant holds activities that answer at once, for measuring
// kabiforge's orchestration alone (fan-out, throughput) on a real Temporal
// server: the workflows run unchanged, only the work is skipped.
package instant

import (
	"context"

	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// Activities stand in for every activity but RequestPublish with answers
// that come at once: a builder that returns immediately, an analysis that
// finds every kmod broken. They measure orchestration alone; register them
// on the control queue and the build queues.
type Activities struct {
	real *activities.Activities
}

// New returns instant activities whose RequestPublish is the real one,
// signalling the RepoPublish workflow on the control queue through c.
func New(c client.Client, controlQueue string) *Activities {
	return &Activities{real: &activities.Activities{Client: c, ControlQueue: controlQueue}}
}

func ref(name string) pipeline.Artifact {
	return pipeline.Artifact{Key: "x/" + name, SHA256: "00", Name: name}
}

// FetchSRPM returns a reference to the SRPM without fetching it.
func (*Activities) FetchSRPM(_ context.Context, in pipeline.FetchInput) (pipeline.Fetched, error) {
	return pipeline.Fetched{Artifact: ref(in.Package.Location)}, nil
}

// Build returns one RPM, the SRPM and a log, all references, at once.
func (*Activities) Build(_ context.Context, in pipeline.BuildInput) (pipeline.BuildOutput, error) {
	return pipeline.BuildOutput{RPMs: []pipeline.Artifact{ref(in.Label + ".rpm")}, SRPM: ref(in.Label + ".src.rpm"),
		Logs: []pipeline.Artifact{ref(in.Label + ".log")}, Host: "h", Builder: "instant"}, nil
}

// Analyze finds every kmod broken by one symbol.
func (*Activities) Analyze(_ context.Context, in pipeline.AnalyzeInput) (pipeline.Analysis, error) {
	out := pipeline.Analysis{Arch: in.Arch, Previous: "prev"}
	for _, k := range in.Kmods {
		out.Kmods = append(out.Kmods, pipeline.KmodVerdict{Name: k.Name, Breaks: []string{"sym"},
			Published: &pipeline.Published{RPMs: []pipeline.Artifact{ref(k.Name + "-old.rpm")}, SRPM: ref(k.Name + "-old.src.rpm")}})
	}
	return out, nil
}

// CheckKmods finds every rebuilt kmod compatible.
func (*Activities) CheckKmods(_ context.Context, in pipeline.CheckInput) ([]pipeline.KmodVerdict, error) {
	var out []pipeline.KmodVerdict
	for name := range in.Kmods {
		out = append(out, pipeline.KmodVerdict{Name: name, Compatible: true})
	}
	return out, nil
}

// Sign returns the RPMs as they are.
func (*Activities) Sign(_ context.Context, in pipeline.SignInput) (pipeline.SignOutput, error) {
	return pipeline.SignOutput{RPMs: in.RPMs, KeyID: "K"}, nil
}

// Publish commits at once without writing anything.
func (*Activities) Publish(_ context.Context, req pipeline.PublishRequest) (pipeline.PublishResult, error) {
	return pipeline.PublishResult{ID: req.ID, Committed: true, Packages: len(req.Add)}, nil
}

// RequestPublish is the real one: it signals the repository's RepoPublish workflow.
func (i *Activities) RequestPublish(ctx context.Context, req pipeline.PublishRequest) error {
	return i.real.RequestPublish(ctx, req)
}
