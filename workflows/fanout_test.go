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

	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/instant"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/workflows"
)

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
	acts := instant.New(c, "fan")
	for _, q := range []string{"fan", "build-fan"} {
		w := worker.New(c, q, worker.Options{MaxConcurrentActivityExecutionSize: 200})
		if q == "fan" {
			workflows.Register(w)
		}
		w.RegisterActivity(acts)
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
