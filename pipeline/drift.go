package pipeline

import "github.com/kabiforge/kabiforge/repo/kabi"

// Listing is what a source lists, with what could not be read in it.
type Listing struct {
	Packages []SourcePackage `json:"packages"`
	// Problems name what the listing could not use, e.g. a listing that is
	// no package index at all.
	Problems []string `json:"problems,omitempty"`
}

// DriftCheckInput asks for a reference kernel's drift report: its kABI per
// arch against every kmod the repository publishes for the stream.
type DriftCheckInput struct {
	Stream     string   `json:"stream"`
	KernelNVR  string   `json:"kernel_nvr"`
	Repository string   `json:"repository"`
	Arches     []string `json:"arches"`
	// Kernel holds each arch's fetched reference kernel packages.
	Kernel map[string][]Artifact `json:"kernel"`
	// KernelProblems says per arch why there is no kernel to read.
	KernelProblems map[string]string `json:"kernel_problems,omitempty"`
	Kmods          []KmodSpec        `json:"kmods"`
	Policy         *kabi.Policy      `json:"policy,omitempty"`
	// Problems are what went wrong before any arch, for the report.
	Problems []string `json:"problems,omitempty"`
}

// DriftKmod is one kmod build's drift verdict, as the workflow keeps it.
type DriftKmod struct {
	Name string `json:"name"`
	Arch string `json:"arch"`
	// State is compatible, broken or unknown.
	State   string   `json:"state"`
	Problem string   `json:"problem,omitempty"`
	Breaks  []string `json:"breaks,omitempty"`
}

// DriftSummary is the short form of a drift report; the whole report is
// the Report artifact.
type DriftSummary struct {
	Report  Artifact    `json:"report"`
	Broken  int         `json:"broken"`
	Unknown int         `json:"unknown"`
	Kmods   []DriftKmod `json:"kmods"`
	// Problems are the report's problems: the listing's and each arch's.
	Problems []string `json:"problems,omitempty"`
}

// DriftReport is a drift report to store in a repository as
// DriftReportKey(KernelNVR).
type DriftReport struct {
	KernelNVR string   `json:"kernel_nvr"`
	Report    Artifact `json:"report"`
}

// KernelOutcome is what a kernel's rebuild did with each kmod, published
// with the kernel for the compatibility page.
type KernelOutcome struct {
	KernelNVR string                 `json:"kernel_nvr"`
	Kmods     map[string]KmodOutcome `json:"kmods"`
	// Reports are the kABI reports (JSON) of each arch.
	Reports []Artifact `json:"reports,omitempty"`
}

// KmodOutcome is one kmod's final state in a rebuild, with its reason.
type KmodOutcome struct {
	State  State  `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Greylist counts the symbols the published build uses off the
	// kernel's stablelist (status' Greylist).
	Greylist int `json:"greylist,omitempty"`
}
