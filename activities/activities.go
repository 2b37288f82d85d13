// Package activities holds kabiforge's Temporal activities: thin adapters
// over repo/* and internal/build that move files between the artifact store
// and a local work directory, heartbeat long work and classify errors as
// retryable (network, store, infrastructure) or not (bad input, signatures,
// package build failures). Payloads carry Artifact references, never package
// bytes or key material: the signing key lives in the Activities value.
package activities

import (
	"errors"
	"fmt"
	"os"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/source"
	"github.com/kabiforge/kabiforge/repo/store"
)

// Repository is a published repository an Activities value writes to.
type Repository struct {
	Store store.Store
	// BaseURL is what dnf clients use; it goes into the .repo file.
	BaseURL   string
	Retention publish.Retention
	// Window is how long replaced metadata stays readable; 0 means
	// config.DefaultWindow.
	Window time.Duration
}

// Source is an upstream with the verification its packages need.
type Source struct {
	Source source.Source
	Fetch  source.FetchOptions
}

// Activities holds the dependencies of every activity. Register a pointer
// to it with a worker; fields a worker does not need may stay nil (a build
// worker needs Artifacts, Builder and WorkDir only).
type Activities struct {
	// Artifacts holds SRPMs, build outputs, logs and reports.
	Artifacts store.Store
	// Sources by configured name.
	Sources map[string]Source
	// Repositories by configured name.
	Repositories map[string]Repository
	// Builder builds packages; BuilderName names it in provenance.
	Builder     build.Builder
	BuilderName string
	// Templates picks the mock config a build of a stream and arch
	// includes; nil, or no answer, leaves the builder's default.
	Templates func(stream, arch string) (string, bool)
	// ConfigHash identifies the configuration in provenance records.
	ConfigHash string
	// Signer signs packages and repository metadata.
	Signer *sign.Signer
	// ModuleKey signs kernel modules and images in builds and verifies
	// modules before publishing; nil turns module signing off.
	ModuleKey *modsign.Key
	// ModuleSignCommand runs the signer inside builds (argv before KEY
	// CERT BUILDROOT), e.g. kabiforge modsign sign-buildroot; nil builds
	// sign nothing.
	ModuleSignCommand []string
	// Client sends publish requests to RepoPublish (signal-with-start).
	Client client.Client
	// ControlQueue is the task queue of the pipeline workflows.
	ControlQueue string
	// PublishOptions tune the RepoPublish workflows this worker starts.
	PublishOptions pipeline.RepoPublishState
	// WorkDir holds temporary files; "" means os.TempDir().
	WorkDir string
	// Host names this worker in provenance; "" means os.Hostname().
	Host string
	// Metrics, when set, receives build, publish and kABI measurements.
	Metrics Metrics
	// Boot, when set, lets this worker boot-test kernels (BootTest).
	Boot *BootEnv
}

func (a *Activities) tempDir(pattern string) (string, func(), error) {
	dir, err := os.MkdirTemp(a.WorkDir, "kabiforge-"+pattern+"-")
	if err != nil {
		return "", nil, infra("make work directory", err)
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

func (a *Activities) source(name string) (Source, error) {
	s, ok := a.Sources[name]
	if !ok {
		return Source{}, badInput(fmt.Errorf("source %q is not configured on this worker", name))
	}
	return s, nil
}

func (a *Activities) repository(name string) (Repository, error) {
	r, ok := a.Repositories[name]
	if !ok {
		return Repository{}, badInput(fmt.Errorf("repository %q is not configured on this worker", name))
	}
	return r, nil
}

func (a *Activities) host() string {
	if a.Host != "" {
		return a.Host
	}
	h, _ := os.Hostname()
	return h
}

var errNoSigner = errors.New("this worker has no signing key")
