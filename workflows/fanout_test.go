package workflows_test

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

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
	stop, err := instant.Serve(c, "fan")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	plan := instant.Plan("fan", n, 100)
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
