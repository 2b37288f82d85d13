package activities

import "time"

// Metrics receives what activities measure. The worker supplies one (for
// Prometheus); nil records nothing.
type Metrics interface {
	// BuildDone records one build: outcome is "ok" or the failure's error
	// type (PackageBuild, Dependency, Infra, Cancelled, ...).
	BuildDone(arch, outcome string, d time.Duration)
	// PublishDone records one publish to a repository.
	PublishDone(repo string, ok bool, d time.Duration)
	// KabiBreaks records kmods a new kernel broke.
	KabiBreaks(arch string, n int)
	// BootDone records one boot test: outcome is ok, refused (a kmod was
	// refused), no-boot or error.
	BootDone(arch, outcome string, d time.Duration)
}

// buildOutcome names how a build ended, for metrics.
func buildOutcome(err error) string {
	if err == nil {
		return "ok"
	}
	if t, ok := appErrorType(err); ok {
		return t
	}
	return "error"
}
