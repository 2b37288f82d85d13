package activities

// Registry is where activities are registered (a worker.Worker).
type Registry interface {
	RegisterActivity(a any)
}

// Register registers every activity of a, named after its methods
// (ListSource, FetchSRPM, FetchNewest, Build, Analyze, CheckKmods, Sign,
// Publish, RequestPublish).
func Register(r Registry, a *Activities) { r.RegisterActivity(a) }
