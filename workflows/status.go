package workflows

import (
	"github.com/kabiforge/kabiforge/pipeline"
)

// Unit is the state of one arch's kernel build or of one kmod.
type Unit struct {
	State  pipeline.State `json:"state"`
	Reason string         `json:"reason,omitempty"`
	// Breaks are the symbols that broke the kmod's published build.
	Breaks []string `json:"breaks,omitempty"`
	// Greylist counts the symbols the kmod uses off the kernel's stablelist.
	Greylist int `json:"greylist,omitempty"`
}

// KabiSummary is the short form of the kABI analysis.
type KabiSummary = pipeline.KabiSummary

// Status is what the status query returns.
type Status struct {
	KernelNVR string          `json:"kernel_nvr"`
	Stage     pipeline.Stage  `json:"stage"`
	Arches    map[string]Unit `json:"arches"`
	Kmods     map[string]Unit `json:"kmods"`
	Kabi      KabiSummary     `json:"kabi"`
	// Boot is each arch's boot test.
	Boot map[string]BootUnit `json:"boot,omitempty"`
	// Gate lists why the rebuild waits for approval, when it does.
	Gate     []string                `json:"gate,omitempty"`
	Decision string                  `json:"decision,omitempty"`
	Reason   string                  `json:"reason,omitempty"`
	RepoURL  string                  `json:"repo_url,omitempty"`
	Publish  *pipeline.PublishResult `json:"publish,omitempty"`
}

// kmodsFailed counts the kmods that failed or were excluded.
func (s *Status) kmodsFailed() int {
	n := 0
	for _, u := range s.Kmods {
		if u.State == pipeline.StateFailed || u.State == pipeline.StateExcluded {
			n++
		}
	}
	return n
}

func (s *Status) setKmod(name string, state pipeline.State, reason string) {
	u := s.Kmods[name]
	u.State, u.Reason = state, reason
	s.Kmods[name] = u
}

func (s *Status) setArch(name string, state pipeline.State, reason string) {
	s.Arches[name] = Unit{State: state, Reason: reason}
}
