package workflows_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/workflows"
)

// instant stands in for every activity but RequestPublish with answers that
// come at once: a builder that returns immediately, an analysis that finds
// every kmod broken. It measures orchestration alone.
type instant struct {
	kmods int
	real  *activities.Activities
}

func ref(name string) pipeline.Artifact {
	return pipeline.Artifact{Key: "x/" + name, SHA256: "00", Name: name}
}

func (instant) FetchSRPM(_ context.Context, in pipeline.FetchInput) (pipeline.Fetched, error) {
	return pipeline.Fetched{Artifact: ref(in.Package.Location)}, nil
}

func (instant) Build(_ context.Context, in pipeline.BuildInput) (pipeline.BuildOutput, error) {
	return pipeline.BuildOutput{RPMs: []pipeline.Artifact{ref(in.Label + ".rpm")}, SRPM: ref(in.Label + ".src.rpm"),
		Logs: []pipeline.Artifact{ref(in.Label + ".log")}, Host: "h", Builder: "instant"}, nil
}

func (instant) Analyze(_ context.Context, in pipeline.AnalyzeInput) (pipeline.Analysis, error) {
	out := pipeline.Analysis{Arch: in.Arch, Previous: "prev"}
	for _, k := range in.Kmods {
		out.Kmods = append(out.Kmods, pipeline.KmodVerdict{Name: k.Name, Breaks: []string{"sym"},
			Published: &pipeline.Published{RPMs: []pipeline.Artifact{ref(k.Name + "-old.rpm")}, SRPM: ref(k.Name + "-old.src.rpm")}})
	}
	return out, nil
}

func (instant) CheckKmods(_ context.Context, in pipeline.CheckInput) ([]pipeline.KmodVerdict, error) {
	var out []pipeline.KmodVerdict
	for name := range in.Kmods {
		out = append(out, pipeline.KmodVerdict{Name: name, Compatible: true})
	}
	return out, nil
}

func (instant) Sign(_ context.Context, in pipeline.SignInput) (pipeline.SignOutput, error) {
	return pipeline.SignOutput{RPMs: in.RPMs, KeyID: "K"}, nil
}

func (instant) Publish(_ context.Context, req pipeline.PublishRequest) (pipeline.PublishResult, error) {
	return pipeline.PublishResult{ID: req.ID, Committed: true, Packages: len(req.Add)}, nil
}

func (i instant) RequestPublish(ctx context.Context, req pipeline.PublishRequest) error {
	return i.real.RequestPublish(ctx, req)
}

// A kernel that breaks 500 kmods, with a builder that returns at once,
// finishes in under 60 s with its history under 10,000 events.
func TestFanOut500(t *testing.T) {
	if testing.Short() {
		t.Skip("a measurement: runs without -short")
	}
	const n = 500
	srv := devtest.Start(t, devtest.Options{Headless: true})
	c, err := client.Dial(client.Options{HostPort: srv.Frontend, Namespace: srv.Namespace,
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	acts := instant{kmods: n, real: &activities.Activities{Client: c, ControlQueue: "fan"}}
	for _, q := range []string{"fan", "build-fan"} {
		w := worker.New(c, q, worker.Options{MaxConcurrentActivityExecutionSize: 200})
		if q == "fan" {
			workflows.Register(w)
		}
		w.RegisterActivity(&acts)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		defer w.Stop()
	}
	plan := workflows.Plan{Source: "s", Stream: "el8", Arches: []workflows.Arch{{Name: "x86_64", Queue: "build-fan"}},
		Repository: "fan", ControlQueue: "fan", KmodParallel: 100}
	for i := range n {
		name := fmt.Sprintf("drv%03d", i)
		plan.Kmods = append(plan.Kmods, pipeline.KmodSpec{Name: name, Package: "kmod-" + name, Source: "s"})
	}
	start := time.Now()
	run, err := workflows.StartRebuild(context.Background(), c, plan, pipeline.SourcePackage{Name: "kernel",
		Version: "4.18.0", Release: "80.el8", Arch: "src", Location: "kernel-4.18.0-80.el8.src.rpm"})
	if err != nil {
		t.Fatal(err)
	}
	var res workflows.RebuildResult
	if err := run.Get(context.Background(), &res); err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	if res.Stage != pipeline.StagePublished || res.Published.Packages != n+1 {
		t.Fatalf("result %+v", res)
	}
	events := 0
	it := c.GetWorkflowHistory(context.Background(), run.GetID(), run.GetRunID(), false, 0)
	for it.HasNext() {
		if _, err := it.Next(); err != nil {
			t.Fatal(err)
		}
		events++
	}
	t.Logf("%d kmods rebuilt in %v; parent history %d events", n, took.Round(time.Millisecond), events)
	if took > 60*time.Second || events >= 10000 {
		t.Errorf("fan-out of %d took %v with %d events; want < 60s and < 10000", n, took, events)
	}
}
