package pipeline

import (
	"time"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

// Artifact is a file in the artifact store, named by content: payloads carry
// these references, never the bytes.
type Artifact struct {
	// Key is the store key, "<sha256>/<name>" under a kind prefix.
	Key string `json:"key"`
	// SHA256 is the hex digest of the content.
	SHA256 string `json:"sha256"`
	// Name is the file name (e.g. kernel-core-4.18.0-80.el8.x86_64.rpm).
	Name string `json:"name"`
	Size int64  `json:"size"`
}

// SourcePackage is one package a source lists, as the workflows see it.
type SourcePackage struct {
	Name     string `json:"name"`
	Epoch    string `json:"epoch,omitempty"`
	Version  string `json:"version"`
	Release  string `json:"release"`
	Arch     string `json:"arch"`
	Location string `json:"location"`
	Size     int64  `json:"size"`
	// ChecksumType and ChecksumHex are the listing's checksum, if any.
	ChecksumType string `json:"checksum_type,omitempty"`
	ChecksumHex  string `json:"checksum_hex,omitempty"`
	Vouched      bool   `json:"vouched,omitempty"`
}

// NVR returns name-version-release.
func (p SourcePackage) NVR() string { return p.Name + "-" + p.Version + "-" + p.Release }

// FetchInput asks for one source package to be fetched and verified.
type FetchInput struct {
	Source  string        `json:"source"`
	Package SourcePackage `json:"package"`
}

// Fetched is a verified source package in the artifact store.
type Fetched struct {
	Artifact
	// Signers are the IDs of the upstream keys whose signatures verified.
	Signers []string `json:"signers,omitempty"`
}

// KmodSourceInput asks for the newest source package of a kmod.
type KmodSourceInput struct {
	Source  string `json:"source"`
	Package string `json:"package"`
}

// BuildInput is one package build.
type BuildInput struct {
	// Label names the build in logs and keys, e.g. kernel-4.18.0-80.el8.
	Label string   `json:"label"`
	SRPM  Artifact `json:"srpm"`
	Arch  string   `json:"arch"`
	// Stream is the kernel stream the build is for; it picks the mock template.
	Stream string `json:"stream,omitempty"`
	// RetargetKernel, when set, rewrites a kmod's spec for this kernel
	// (version-release, e.g. 4.18.0-80.1.2.el8_0) before building.
	RetargetKernel string `json:"retarget_kernel,omitempty"`
	// Deps are packages BuildRequires are resolved from (the kernel's RPMs).
	Deps []Artifact `json:"deps,omitempty"`
}

// BuildOutput is what a successful build produced.
type BuildOutput struct {
	RPMs []Artifact `json:"rpms"`
	// SRPM is the source package that was built (the retargeted one).
	SRPM     Artifact      `json:"srpm"`
	Logs     []Artifact    `json:"logs"`
	Host     string        `json:"host"`
	Builder  string        `json:"builder"`
	Duration time.Duration `json:"duration"`
}

// KmodSpec is a configured kmod as the workflows see it.
type KmodSpec struct {
	Name    string `json:"name"`
	Package string `json:"package"`
	Source  string `json:"source"`
	// Always rebuilds the kmod for every kernel (policy "always").
	Always bool `json:"always,omitempty"`
}

// AnalyzeInput asks for a new kernel's kABI analysis on one arch.
type AnalyzeInput struct {
	KernelNVR  string     `json:"kernel_nvr"`
	Arch       string     `json:"arch"`
	Repository string     `json:"repository"`
	Kernel     []Artifact `json:"kernel"`
	Kmods      []KmodSpec `json:"kmods"`
	// Policy is the stream's kABI policy; nil fails the kmod on every break.
	Policy *kabi.Policy `json:"policy,omitempty"`
}

// Published is a build already in a repository.
type Published struct {
	// RPMs are the signed packages as published.
	RPMs []Artifact `json:"rpms"`
	// SRPM is the source package they were built from.
	SRPM Artifact `json:"srpm"`
	// KernelNVR is the kernel the build was made for.
	KernelNVR string `json:"kernel_nvr,omitempty"`
}

// KmodVerdict is one kmod's standing against a kernel.
type KmodVerdict struct {
	Name       string     `json:"name"`
	Published  *Published `json:"published,omitempty"`
	Compatible bool       `json:"compatible"`
	// Breaks lists the symbols that broke, "sym (stablelisted)" style.
	Breaks []string `json:"breaks,omitempty"`
	// StablelistedBreaks counts breaks on stablelisted symbols.
	StablelistedBreaks int `json:"stablelisted_breaks,omitempty"`
	// Action is what the stream's kABI policy decided for the breaks: ""
	// (before policies) or fail-kmod rebuilds the kmod, hold-gate also holds
	// the release for an operator.
	Action kabi.Action `json:"action,omitempty"`
	// Greylist counts the symbols the kmod uses off the kernel's stablelist.
	Greylist int `json:"greylist,omitempty"`
	// BadSignatures names each kernel module whose signature does not
	// verify against the repository's module-signing certificate, and why.
	BadSignatures []string `json:"bad_signatures,omitempty"`
}

// PolicyAction is the policy's action, fail-kmod when unset.
func (v KmodVerdict) PolicyAction() kabi.Action {
	if v.Action == "" {
		return kabi.ActionFailKmod
	}
	return v.Action
}

// HoldsGate reports whether the policy holds the release for this kmod.
func (v KmodVerdict) HoldsGate() bool {
	return !v.Compatible && v.PolicyAction() == kabi.ActionHoldGate
}

// Analysis is the kABI analysis of a new kernel on one arch.
type Analysis struct {
	Arch string `json:"arch"`
	// Previous is the previously published kernel compared against, "" for none.
	Previous          string   `json:"previous,omitempty"`
	Added             int      `json:"added"`
	Removed           int      `json:"removed"`
	Changed           int      `json:"changed"`
	StablelistChanged []string `json:"stablelist_changed,omitempty"`
	// ExportChanged are the symbols that kept their CRC but changed export
	// type or namespace, "name: old -> new" (kabi.Change.Detail).
	ExportChanged []string      `json:"export_changed,omitempty"`
	Stablelist    int           `json:"stablelist"`
	Kmods         []KmodVerdict `json:"kmods"`
	// Report and ReportJSON are the full report, text and JSON.
	Report     Artifact `json:"report"`
	ReportJSON Artifact `json:"report_json"`
}

// CheckInput asks whether kmod packages load on a kernel.
type CheckInput struct {
	Kernel []Artifact `json:"kernel"`
	// Kmods maps a kmod name to its packages.
	Kmods map[string][]Artifact `json:"kmods"`
	// Policy is the stream's kABI policy; nil fails a kmod on every break.
	Policy *kabi.Policy `json:"policy,omitempty"`
}

// SignInput asks for packages to be signed with the worker's key.
type SignInput struct {
	RPMs []Artifact `json:"rpms"`
}

// SignOutput is the signed copies, in the input's order, and the key's ID.
type SignOutput struct {
	RPMs  []Artifact `json:"rpms"`
	KeyID string     `json:"key_id"`
}

// Provenance records where one published RPM came from.
type Provenance struct {
	RPM          Artifact   `json:"rpm"`
	SourceRPM    Artifact   `json:"source_rpm"`
	UpstreamSRPM *Fetched   `json:"upstream_srpm,omitempty"`
	SigningKeyID string     `json:"signing_key_id"`
	Builder      string     `json:"builder"`
	ConfigHash   string     `json:"config_hash"`
	BuildHost    string     `json:"build_host"`
	Logs         []Artifact `json:"logs"`
	KernelNVR    string     `json:"kernel_nvr"`
	// Kind is KindKernel or KindKmod; Kmod names the kmod.
	Kind Kind      `json:"kind"`
	Kmod string    `json:"kmod,omitempty"`
	Time time.Time `json:"time"`
	// BootTest is the boot test of the kernel on the RPM's arch; nil when
	// the arch was not boot-tested.
	BootTest *BootRecord `json:"boot_test,omitempty"`
}

// BootRecord is a boot test as provenance records it: the kernel loaded
// every kmod published with it, in a VM.
type BootRecord struct {
	KernelNVR string   `json:"kernel_nvr"`
	Arch      string   `json:"arch"`
	Log       Artifact `json:"log"`
	Report    Artifact `json:"report"`
}

// PublishRequest is one change to a repository, applied by RepoPublish.
type PublishRequest struct {
	// ID identifies the request; a request seen twice is applied once.
	ID         string `json:"id"`
	Repository string `json:"repository"`
	// Requester is the workflow ID signalled with the PublishResult.
	Requester  string       `json:"requester,omitempty"`
	Add        []Artifact   `json:"add"`
	Provenance []Provenance `json:"provenance,omitempty"`
	// Drift are reference kernels' drift reports, stored by the same
	// publish; a request of drift reports alone adds no package.
	Drift []DriftReport `json:"drift,omitempty"`
	// Kernel is the outcome of the rebuild publishing a kernel.
	Kernel *KernelOutcome `json:"kernel,omitempty"`
}

// PublishResult says what a publish did.
type PublishResult struct {
	ID        string `json:"id"`
	Committed bool   `json:"committed"`
	Revision  string `json:"revision,omitempty"`
	Packages  int    `json:"packages"`
	Error     string `json:"error,omitempty"`
}

// RepoPublishState is RepoPublish's input, carried over continue-as-new.
type RepoPublishState struct {
	Repository string `json:"repository"`
	// Pending are requests received but not yet applied.
	Pending []PublishRequest `json:"pending,omitempty"`
	// Done are the IDs of recently applied requests, newest last, so a
	// request sent twice is applied once.
	Done []PublishResult `json:"done,omitempty"`
	// RequestsPerRun and Idle tune the workflow; zero takes its defaults.
	RequestsPerRun int           `json:"requests_per_run,omitempty"`
	Idle           time.Duration `json:"idle,omitempty"`
	// HeartbeatTimeout is the Publish activity's; zero means 2m. A worker
	// that dies mid-publish is noticed after it and the publish retried.
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"`
}
