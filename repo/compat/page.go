// Package compat holds a repository's compatibility page: which kmod works
// with which kernel, and why, as a static index.html for people and a
// status.json for programs. Both are written by the same atomic publish as
// the repository metadata, so what the page says always matches what dnf
// sees.
package compat

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// State is what happened to one kmod on one kernel. States are words, so
// the page never depends on colour alone.
type State string

// The states a cell can be in.
const (
	// Rebuilt: the kmod was built for this kernel.
	Rebuilt State = "rebuilt"
	// Kept: an earlier build was kept, proven compatible with this kernel.
	Kept State = "kept"
	// Excluded: the kmod was left out at the gate; Reason says why.
	Excluded State = "excluded"
	// Compatible: a reference kernel provides every symbol the published kmod needs.
	Compatible State = "compatible"
	// Broken: a reference kernel lacks or changed symbols the kmod needs.
	Broken State = "broken"
	// Unknown: the kmod could not be checked; Reason names the problem.
	Unknown State = "unknown"
)

// Valid reports whether s is one of the defined states.
func (s State) Valid() bool {
	switch s {
	case Rebuilt, Kept, Excluded, Compatible, Broken, Unknown:
		return true
	}
	return false
}

// Kind tells a published kernel from a reference kernel that is only checked.
type Kind string

// The kinds of kernel row.
const (
	// Published: the kernel is in the repository.
	Published Kind = "published"
	// Reference: a kernel watched for drift (e.g. CentOS Stream), never published.
	Reference Kind = "reference"
)

// Page is everything the compatibility page shows.
type Page struct {
	// Repo is the repository's name, e.g. "el8".
	Repo string `json:"repo"`
	// BaseURL is where the repository is served.
	BaseURL string `json:"base_url"`
	// Revision is the repomd.xml revision the page was committed with.
	Revision string `json:"revision"`
	// Generated is when the page was written (by the publish that wrote it).
	Generated time.Time `json:"generated"`
	// Install holds the shell lines that install the repository, its key and
	// its Secure Boot certificate, in order.
	Install []string `json:"install"`
	// Kernels are the rows. Render and WriteJSON sort them newest first.
	Kernels []Kernel `json:"kernels"`
}

// Kernel is one row: a kernel and what happened to every kmod on it.
type Kernel struct {
	// NVR is the kernel's version-release, e.g. "6.1.0-57.el9".
	NVR string `json:"nvr"`
	// Arch is the architecture, e.g. "x86_64".
	Arch string `json:"arch"`
	// Kind is published or reference.
	Kind Kind `json:"kind"`
	// Stream is the stream the kernel belongs to, e.g. "el9".
	Stream string `json:"stream,omitempty"`
	// Note is a short line about the whole row ("held at the gate", "does not boot").
	Note string `json:"note,omitempty"`
	// Links go to the kernel's kABI report, provenance, build logs, drift report.
	Links []Link `json:"links,omitempty"`
	// Kmods holds one cell per kmod, keyed by kmod name.
	Kmods map[string]Cell `json:"kmods"`
}

// Cell is what happened to one kmod on one kernel.
type Cell struct {
	// State is the outcome.
	State State `json:"state"`
	// Version is the kmod build's version-release, when there is one.
	Version string `json:"version,omitempty"`
	// Reason explains excluded, broken and unknown cells.
	Reason string `json:"reason,omitempty"`
	// Symbols are the symbols that break it, stablelisted ones marked by the caller.
	Symbols []string `json:"symbols,omitempty"`
	// Greylisted counts the symbols the kmod uses that are not on the stablelist.
	Greylisted int `json:"greylisted,omitempty"`
	// Link goes to the kmod's report or build log.
	Link string `json:"link,omitempty"`
}

// Link is a labelled relative or absolute URL.
type Link struct {
	Label string `json:"label"`
	Href  string `json:"href"`
}

// Validate reports the first problem that would make the page wrong.
func (p Page) Validate() error {
	if p.Repo == "" {
		return fmt.Errorf("compatibility page: no repository name")
	}
	for _, k := range p.Kernels {
		if k.NVR == "" || k.Arch == "" {
			return fmt.Errorf("compatibility page %s: kernel row %q/%q lacks its NVR or arch", p.Repo, k.NVR, k.Arch)
		}
		if k.Kind != Published && k.Kind != Reference {
			return fmt.Errorf("compatibility page %s: kernel %s has kind %q", p.Repo, k.NVR, k.Kind)
		}
		for name, c := range k.Kmods {
			if !c.State.Valid() {
				return fmt.Errorf("compatibility page %s: kmod %s on %s has state %q", p.Repo, name, k.NVR, c.State)
			}
		}
	}
	return nil
}

// Sorted returns a copy of p with kernels newest first (rpm's version
// order), published before reference rows of the same NVR, then by arch.
func (p Page) Sorted() Page {
	p.Kernels = slices.Clone(p.Kernels)
	slices.SortStableFunc(p.Kernels, func(a, b Kernel) int {
		if c := compareNVR(b.NVR, a.NVR); c != 0 {
			return c
		}
		if a.Kind != b.Kind {
			return strings.Compare(string(b.Kind), string(a.Kind)) // published, then reference
		}
		return strings.Compare(a.Arch, b.Arch)
	})
	return p
}

// KmodNames returns every kmod that has a cell in some row, sorted.
func (p Page) KmodNames() []string {
	var names []string
	for _, k := range p.Kernels {
		for name := range k.Kmods {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return slices.Compact(names)
}

// WriteJSON writes p, sorted, as status.json.
func WriteJSON(w io.Writer, p Page) error {
	if err := p.Validate(); err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p.Sorted()); err != nil {
		return fmt.Errorf("write status.json of %s: %w", p.Repo, err)
	}
	return nil
}

// compareNVR orders kernel version-releases ("6.1.0-57.el9") as rpm does.
func compareNVR(a, b string) int {
	av, ar, _ := strings.Cut(a, "-")
	bv, br, _ := strings.Cut(b, "-")
	return rpm.CompareEVR("", av, ar, "", bv, br)
}
