package workflows

import (
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/pipeline"
)

// Registry is where workflows are registered (a worker.Worker).
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every kabiforge workflow under its name.
func Register(r Registry) {
	r.RegisterWorkflowWithOptions(KernelWatch, workflow.RegisterOptions{Name: pipeline.KernelWatchWorkflow})
	r.RegisterWorkflowWithOptions(KernelRebuild, workflow.RegisterOptions{Name: pipeline.KernelRebuildWorkflow})
	r.RegisterWorkflowWithOptions(PackageBuild, workflow.RegisterOptions{Name: pipeline.PackageBuildWorkflow})
	r.RegisterWorkflowWithOptions(RepoPublish, workflow.RegisterOptions{Name: pipeline.RepoPublishWorkflow})
	r.RegisterWorkflowWithOptions(KabiDrift, workflow.RegisterOptions{Name: pipeline.KabiDriftWorkflow})
}
