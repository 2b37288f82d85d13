package pipeline

// Stage is where a KernelRebuild is, the KabiStage search attribute.
type Stage string

// Stages of a KernelRebuild, in the order they are reached.
const (
	StageFetching         Stage = "fetching"
	StageBuildingKernel   Stage = "building-kernel"
	StageAnalyzing        Stage = "analyzing"
	StageRebuildingKmods  Stage = "rebuilding-kmods"
	StageVerifying        Stage = "verifying"
	StageBootTesting      Stage = "boot-testing"
	StageAwaitingApproval Stage = "awaiting-approval"
	StageSigning          Stage = "signing"
	StagePublishing       Stage = "publishing"
	StagePublished        Stage = "published"
	StageRejected         Stage = "rejected"
	StageFailed           Stage = "failed"
	// StageDrift is the stage of every KabiDrift: a reference kernel checked,
	// never rebuilt.
	StageDrift Stage = "drift"
)

// State is the state of one arch's kernel build or of one kmod.
type State string

// States of an arch's kernel build or of a kmod.
const (
	StatePending    State = "pending"
	StateBuilding   State = "building"
	StateBuilt      State = "built"
	StateCompatible State = "compatible" // the published build's kABI requirements hold on the new kernel
	StateRebuilt    State = "rebuilt"
	StateFailed     State = "failed"
	StateExcluded   State = "excluded" // failed, and left out of the publish
)

// Kind is what a published package is.
type Kind string

// Kinds of published packages.
const (
	KindKernel Kind = "kernel" // a package built from the kernel's SRPM
	KindKmod   Kind = "kmod"   // a package built from a kmod's SRPM
)
