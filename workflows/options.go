package workflows

import (
	"errors"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/config"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
)

func (t Timeouts) build() time.Duration     { return orDefault(t.Build, config.DefaultTimeLimit) }
func (t Timeouts) heartbeat() time.Duration { return orDefault(t.Heartbeat, config.DefaultHeartbeat) }
func (t Timeouts) activity() time.Duration {
	return orDefault(t.Activity, config.DefaultActivityTimeout)
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// retry is the policy of every activity: backoff from 1s to 1m, at most 10
// attempts; the non-retryable error types end it at once.
var retry = &temporal.RetryPolicy{
	InitialInterval:    time.Second,
	BackoffCoefficient: 2,
	MaximumInterval:    time.Minute,
	MaximumAttempts:    10,
	NonRetryableErrorTypes: []string{activities.ErrBadInput, activities.ErrSignature,
		activities.ErrPackageBuild, activities.ErrDependency},
}

// lightCtx is the context of the control queue's short activities.
func lightCtx(ctx workflow.Context, t Timeouts, queue string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           queue,
		StartToCloseTimeout: t.activity(),
		RetryPolicy:         retry,
	})
}

// reason returns the message of the ApplicationError inside a workflow
// error and, when it carries the build log's tail, the last error line.
func reason(err error) string {
	var app *temporal.ApplicationError
	if !errors.As(err, &app) {
		return err.Error()
	}
	msg := app.Message()
	var tail []string
	if app.HasDetails() && app.Details(&tail) == nil {
		for _, l := range tail {
			if l = strings.TrimSpace(l); strings.HasPrefix(l, "error:") {
				return msg + "; log: " + l
			}
		}
	}
	return msg
}
