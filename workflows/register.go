package workflows

import (
	"go.temporal.io/sdk/workflow"
)

// Registry is where workflows are registered (a worker.Worker).
type Registry interface {
	RegisterWorkflowWithOptions(w any, options workflow.RegisterOptions)
}

// Register registers every kabiforge workflow under its name.
func Register(r Registry) {
	r.RegisterWorkflowWithOptions(KernelWatch, workflow.RegisterOptions{Name: KernelWatchWorkflow})
	r.RegisterWorkflowWithOptions(KernelRebuild, workflow.RegisterOptions{Name: KernelRebuildWorkflow})
	r.RegisterWorkflowWithOptions(PackageBuild, workflow.RegisterOptions{Name: PackageBuildWorkflow})
	r.RegisterWorkflowWithOptions(RepoPublish, workflow.RegisterOptions{Name: RepoPublishWorkflow})
}
