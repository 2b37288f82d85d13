// Package build rebuilds source RPMs. Two builders sit behind one interface:
// Mock, which production workers run (one isolated buildroot per build), and
// Rpmbuild, which builds on the host for local runs and tests. Callers never
// know which one ran.
package build

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Builder rebuilds one source RPM.
type Builder interface {
	// Build rebuilds req.SRPM. Log lines are passed to req.OnLog as they come.
	// Cancelling ctx stops the build's whole process group. Failures are
	// *PackageError, *DependencyError or *InfraError; a cancelled build
	// returns an error wrapping ctx.Err().
	Build(ctx context.Context, req Request) (Result, error)
}

// Request is one build.
type Request struct {
	// SRPM is the path of the source package to rebuild.
	SRPM string
	// Arch is the target architecture, e.g. x86_64.
	Arch string
	// Repos are extra repositories BuildRequires are resolved from, ahead of
	// the base repositories (for a kmod: the new kernel's repository).
	Repos []Repo
	// Macros are defined for the build (rpmbuild --define, mock's
	// config_opts['macros']).
	Macros map[string]string
	// ResultDir receives the built packages and the logs. It is created
	// when missing.
	ResultDir string
	// Timeout limits the build; zero means no limit beyond ctx.
	Timeout time.Duration
	// Template, for mock, names the mock config this build includes (the
	// kernel stream's, e.g. centos-stream-9-x86_64); empty means the Mock's
	// own Template. rpmbuild ignores it.
	Template string
	// ModuleSigning, when set, signs the kernel modules and images the
	// build installs.
	ModuleSigning *ModuleSigning
	// OnLog, when set, receives each log line as it is written. It is called
	// from one goroutine at a time and should return quickly.
	OnLog func(line string)
}

// Repo is a package repository.
type Repo struct {
	// Name identifies the repository (a dnf repo id).
	Name string
	// URL is its base URL: file:///path, a plain directory path, or http(s)
	// (mock only).
	URL string
}

// Result is what a successful build produced.
type Result struct {
	// RPMs are the binary packages, sorted.
	RPMs []string
	// SRPM is the source package as rebuilt in the build.
	SRPM string
	// Logs are the log files, sorted.
	Logs []string
	// Duration is how long the build ran.
	Duration time.Duration
}

func (r Request) validate() error {
	switch {
	case r.SRPM == "":
		return fmt.Errorf("build request: no SRPM")
	case !strings.HasSuffix(r.SRPM, ".src.rpm"):
		return fmt.Errorf("build request: %s is not a .src.rpm", r.SRPM)
	case r.ResultDir == "":
		return fmt.Errorf("build request for %s: no result dir", r.SRPM)
	case r.Timeout < 0:
		return fmt.Errorf("build request for %s: negative timeout %v", r.SRPM, r.Timeout)
	}
	for name, v := range r.Macros {
		if name == "" || strings.ContainsAny(name, " \t\n%{}") || strings.Contains(v, "\n") {
			return fmt.Errorf("build request for %s: bad macro %q", r.SRPM, name)
		}
	}
	for _, repo := range r.Repos {
		if repo.Name == "" || repo.URL == "" || strings.ContainsAny(repo.Name, " \t\n/[]") {
			return fmt.Errorf("build request for %s: bad repository %q (%s)", r.SRPM, repo.Name, repo.URL)
		}
	}
	return nil
}

// sortedMacros returns the macro names in order, so argv and configs are
// reproducible.
func sortedMacros(m map[string]string) []string {
	return slices.Sorted(maps.Keys(m))
}

// withTimeout applies the request's time limit to ctx.
func withTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	if d <= 0 {
		return context.WithCancel(ctx)
	}
	return context.WithTimeoutCause(ctx, d, errTimeLimit)
}
