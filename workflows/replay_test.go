package workflows_test

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/workflows"
)

// TestReplayRecordedHistories replays the histories recorded from the
// end-to-end run (KABIFORGE_RECORD_HISTORY=1 go test -run TestEndToEnd)
// against the current workflow code: a change that would break running
// workflows (non-determinism) fails here.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "history", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 5 {
		t.Fatalf("recorded histories: %v, want the end-to-end run's", files)
	}
	logger := log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			r := worker.NewWorkflowReplayer()
			workflows.Register(registry{r})
			id := strings.ReplaceAll(strings.TrimSuffix(filepath.Base(f), ".json"), "~", "/")
			data, err := os.Open(f)
			if err != nil {
				t.Fatal(err)
			}
			defer data.Close()
			h, err := client.HistoryFromJSON(data, client.HistoryJSONOptions{})
			if err != nil {
				t.Fatal(err)
			}
			err = r.ReplayWorkflowHistoryWithOptions(logger, h, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: id}})
			if err != nil {
				t.Errorf("replay %s: %v", f, err)
			}
		})
	}
}

// registry adapts a WorkflowReplayer to workflows.Registry.
type registry struct{ r worker.WorkflowReplayer }

func (g registry) RegisterWorkflowWithOptions(w any, o workflow.RegisterOptions) {
	g.r.RegisterWorkflowWithOptions(w, o)
}
