// Package workflows holds kabiforge's Temporal workflows: deterministic
// orchestration only, no I/O. Every file, build and signature is handled by
// the activities package; workflows pass Artifact references between them.
//
//	KernelWatch    lists a source, starts one KernelRebuild per new kernel
//	KernelRebuild  kernel/<nvr>: fetch → build → kABI → kmods → verify → gate → sign → publish
//	PackageBuild   build/<label>/<arch>: one build on the build-<arch> queue
//	RepoPublish    repo/<name>: applies publish requests one at a time
package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// Search attributes kabiforge keeps current.
var (
	KernelNVRKey   = temporal.NewSearchAttributeKeyKeyword(pipeline.KernelNVRAttribute)
	KabiStageKey   = temporal.NewSearchAttributeKeyKeyword(pipeline.KabiStageAttribute)
	KabiBrokenKey  = temporal.NewSearchAttributeKeyBool(pipeline.KabiBrokenAttribute)
	KmodsFailedKey = temporal.NewSearchAttributeKeyInt64(pipeline.KmodsFailedAttribute)
)

// Arch is a build architecture and the task queue its builders poll.
type Arch struct {
	Name  string `json:"name"`
	Queue string `json:"queue"`
	// Boot, when set, boot-tests the arch's kernel with its kmods before the
	// gate; nil means boot_test is off.
	Boot *pipeline.BootVM `json:"boot,omitempty"`
}

// Gate says when a kernel waits for approve or reject.
type Gate struct {
	// On lists the conditions that hold a kernel: kmod-failed,
	// stablelist-changed, kabi-changed, always.
	On []pipeline.GateCondition `json:"on"`
	// Timeout, if set, ends the wait with TimeoutAction (approve or reject).
	Timeout       time.Duration `json:"timeout,omitempty"`
	TimeoutAction string        `json:"timeout_action,omitempty"`
}

// Timeouts of the activities; zero values take the defaults.
type Timeouts struct {
	// Build is a build's start-to-close timeout; default 12h.
	Build time.Duration `json:"build,omitempty"`
	// Heartbeat is a build's heartbeat timeout; default 2m.
	Heartbeat time.Duration `json:"heartbeat,omitempty"`
	// Activity is the start-to-close timeout of the other activities; default 30m.
	Activity time.Duration `json:"activity,omitempty"`
}

// Plan is what a stream's kernels go through: everything a KernelRebuild
// needs besides the kernel itself.
type Plan struct {
	Source     string `json:"source"`
	Stream     string `json:"stream"`
	Arches     []Arch `json:"arches"`
	Repository string `json:"repository"`
	// RepoURL is where dnf clients find the repository.
	RepoURL string              `json:"repo_url,omitempty"`
	Kmods   []pipeline.KmodSpec `json:"kmods"`
	// KmodParallel bounds the kmod rebuilds running at once; default 8.
	KmodParallel int  `json:"kmod_parallel,omitempty"`
	Gate         Gate `json:"gate"`
	// KabiPolicy is the stream's kABI policy; nil fails the kmod on every break.
	KabiPolicy *kabi.Policy `json:"kabi_policy,omitempty"`
	Timeouts   Timeouts     `json:"timeouts"`
	// ControlQueue is the queue of the pipeline workflows and light activities.
	ControlQueue string `json:"control_queue"`
	// ConfigHash identifies the configuration in provenance records.
	ConfigHash string `json:"config_hash,omitempty"`
}

// RebuildInput is KernelRebuild's input.
type RebuildInput struct {
	Kernel pipeline.SourcePackage `json:"kernel"`
	Plan   Plan                   `json:"plan"`
}

// WatchStream is one tracked stream of a watched source.
type WatchStream struct {
	// Version is a kernel version prefix ("4.18.0"), Release a glob ("*.el8*").
	Version string `json:"version"`
	Release string `json:"release"`
	Plan    Plan   `json:"plan"`
}

// WatchInput is KernelWatch's input.
type WatchInput struct {
	Source  string        `json:"source"`
	Streams []WatchStream `json:"streams"`
	// References are the streams' reference kernel lines at this source.
	References []WatchReference `json:"references,omitempty"`
}

// WatchResult says which rebuilds a watch started and which already existed.
type WatchResult struct {
	Started []string `json:"started"`
	Skipped []string `json:"skipped"`
	// Problems are what a reference listing could not use, when no drift
	// check started to report them.
	Problems []string `json:"problems,omitempty"`
}

// PackageBuildInput is PackageBuild's input.
type PackageBuildInput struct {
	Build    pipeline.BuildInput `json:"build"`
	Queue    string              `json:"queue"`
	Timeouts Timeouts            `json:"timeouts"`
}

// RebuildResult is what KernelRebuild returns.
type RebuildResult struct {
	Stage     pipeline.Stage          `json:"stage"`
	Published *pipeline.PublishResult `json:"published,omitempty"`
	// Excluded are kmods left out of the publish.
	Excluded []string `json:"excluded,omitempty"`
	Reason   string   `json:"reason,omitempty"`
}
