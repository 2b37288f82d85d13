package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// PackageBuild runs one build on its arch's task queue and returns
// references to what it produced. Builds heartbeat; a build whose worker
// dies is retried elsewhere after the heartbeat timeout; a package failure
// is not retried.
func PackageBuild(ctx workflow.Context, in PackageBuildInput) (pipeline.BuildOutput, error) {
	var a *activities.Activities
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		TaskQueue:           in.Queue,
		StartToCloseTimeout: in.Timeouts.build(),
		HeartbeatTimeout:    in.Timeouts.heartbeat(),
		RetryPolicy:         retry,
		WaitForCancellation: true,
	})
	var out pipeline.BuildOutput
	err := workflow.ExecuteActivity(ctx, a.Build, in.Build).Get(ctx, &out)
	return out, err
}
