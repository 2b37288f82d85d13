// Package pipeline is the vocabulary the workflows and the activities share:
// the names workflows, signals and queries are registered under, the stages
// and states a rebuild reports, and the payloads activities take and return.
// It imports nothing of kabiforge, so both sides (and clients) can use it
// without importing each other.
package pipeline

// Names of the workflows, as registered.
const (
	KernelWatchWorkflow   = "KernelWatch"
	KernelRebuildWorkflow = "KernelRebuild"
	PackageBuildWorkflow  = "PackageBuild"
	RepoPublishWorkflow   = "RepoPublish"
	KabiDriftWorkflow     = "KabiDrift"
)

// Signals and queries of KernelRebuild.
const (
	ApproveSignal   = "approve"    // payload: a comment (string)
	RejectSignal    = "reject"     // payload: the reason (string)
	RetryKmodSignal = "retry-kmod" // payload: the kmod's name (string)
	StatusQuery     = "status"     // returns the rebuild's status
)

// Signals of RepoPublish and of its requesters.
const (
	// PublishSignal carries a PublishRequest to RepoPublish (signal-with-start).
	PublishSignal = "publish"
	// PublishedSignal carries a PublishResult back to the request's Requester.
	PublishedSignal = "published"
)

// Names of the search attributes kabiforge keeps current on a KernelRebuild.
const (
	KernelNVRAttribute   = "KernelNVR"   // keyword
	KabiStageAttribute   = "KabiStage"   // keyword: the Stage
	KabiBrokenAttribute  = "KabiBroken"  // bool
	KmodsFailedAttribute = "KmodsFailed" // int
)

// RebuildID is the workflow ID of a kernel's rebuild: kernel/<version-release>
// for the package "kernel", kernel/<name-version-release> otherwise.
func RebuildID(p SourcePackage) string {
	if p.Name == "kernel" || p.Name == "" {
		return "kernel/" + p.Version + "-" + p.Release
	}
	return "kernel/" + p.NVR()
}

// BuildID is the workflow ID of one package build.
func BuildID(label, arch string) string { return "build/" + label + "/" + arch }

// DriftID is the workflow ID of a reference kernel's drift check against
// a stream's published kmods: drift/<stream>/<version-release>.
func DriftID(stream, kernelVR string) string { return "drift/" + stream + "/" + kernelVR }

// DriftReportKey is where a reference kernel's drift report lives in the
// repository: drift/<version-release>.json.
func DriftReportKey(kernelVR string) string { return "drift/" + kernelVR + ".json" }

// RepoPublishID is the workflow ID of a repository's RepoPublish.
func RepoPublishID(repo string) string { return "repo/" + repo }
