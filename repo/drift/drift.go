// Package drift decides which published kmods a reference kernel breaks:
// a kernel that is watched but never rebuilt or published (CentOS Stream's
// beside RHEL's), checked symbol by symbol against every kmod a repository
// publishes for the stream, and compared with the newest kernel published
// there. Decide is a pure function of what the activities read; anything
// that could not be read arrives as a problem and leaves as a report entry
// naming it, never as an error.
package drift

import (
	"cmp"
	"slices"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

// State is a kmod's standing on the reference kernel.
type State string

// The states of a kmod in a drift report.
const (
	// Compatible: the kernel provides every symbol the kmod needs, alike.
	Compatible State = "compatible"
	// Broken: some needed symbol is missing, changed, or refused.
	Broken State = "broken"
	// Unknown: the kmod or the kernel could not be read; Problem says why.
	Unknown State = "unknown"
)

// Kernel is the reference kernel's kABI on one arch, as read.
type Kernel struct {
	Arch string
	// Package names what the kABI was read from (kernel-core's NEVRA).
	Package string
	// ABI is nil when the kernel could not be read; Problem says why.
	ABI     *kabi.ABI
	Problem string
}

// Kmod is one published kmod build on one arch, as read.
type Kmod struct {
	// Name is the configured kmod name.
	Name string
	Arch string
	// Packages are the published packages' file names.
	Packages []string
	// BuiltFor is the kernel (version-release) the build was made for.
	BuiltFor string
	// Needs is nil when the packages could not be read; Problem says why.
	Needs   *kabi.Kmod
	Problem string
}

// Published is the newest kernel published in the repository on one arch.
type Published struct {
	Arch string
	NVR  string
	// ABI is nil when it could not be read; Problem says why.
	ABI     *kabi.ABI
	Problem string
}

// Input is everything Decide looks at.
type Input struct {
	// Stream is the stream whose published kmods are checked.
	Stream string
	// KernelNVR is the reference kernel's version-release.
	KernelNVR string
	// Arches are the arches checked, in order.
	Arches    []string
	Kernels   []Kernel
	Kmods     []Kmod
	Published []Published
	// Policy is the stream's kABI policy: breaks it ignores do not break.
	Policy *kabi.Policy
	// Problems are what went wrong before any arch (the source's listing).
	Problems []string
}

// Report is the drift of one reference kernel, stored as drift/<nvr>.json.
type Report struct {
	Stream    string `json:"stream"`
	KernelNVR string `json:"kernel_nvr"`
	// Broken counts the broken kmod builds over all arches.
	Broken int `json:"broken"`
	// Unknown counts the kmod builds that could not be checked.
	Unknown int `json:"unknown"`
	// Problems are what could not be read before any arch.
	Problems []string `json:"problems,omitempty"`
	Arches   []Arch   `json:"arches"`
}

// Arch is the drift on one arch.
type Arch struct {
	Arch string `json:"arch"`
	// Package is what the kernel's kABI was read from.
	Package string `json:"package,omitempty"`
	// Symbols counts the kernel's exported symbols; 0 when unread.
	Symbols int `json:"symbols"`
	// Problem says why the kernel could not be checked on this arch.
	Problem string `json:"problem,omitempty"`
	// Against is the comparison with the newest published kernel.
	Against *Comparison `json:"against,omitempty"`
	Kmods   []Result    `json:"kmods"`
}

// Comparison is what the reference kernel changed against the newest
// kernel published for the stream: the drift the RHEL kernel does not have.
type Comparison struct {
	Published string `json:"published"`
	Problem   string `json:"problem,omitempty"`
	Added     int    `json:"added"`
	Removed   int    `json:"removed"`
	Changed   int    `json:"changed"`
	// Stablelisted are the removed or changed symbols of the stablelist.
	Stablelisted []string `json:"stablelisted,omitempty"`
	// Used are the removed or changed symbols some published kmod needs.
	Used []string `json:"used,omitempty"`
}

// Result is one kmod build's verdict on the reference kernel.
type Result struct {
	Name     string   `json:"name"`
	Packages []string `json:"packages,omitempty"`
	BuiltFor string   `json:"built_for,omitempty"`
	State    State    `json:"state"`
	Problem  string   `json:"problem,omitempty"`
	// Checked counts the symbols looked up.
	Checked int `json:"checked"`
	// Breaks are the symbols (and module refusals) that break it, with the
	// CRC the kmod wants and the one the kernel has; stablelisted marked.
	Breaks []kabi.Break `json:"breaks,omitempty"`
	// Stablelisted counts breaks on stablelisted symbols.
	Stablelisted int `json:"stablelisted,omitempty"`
	// Greylisted counts needed symbols off the stablelist (0 without one).
	Greylisted int `json:"greylisted,omitempty"`
}

// Decide checks every published kmod build against the reference kernel
// of its arch and compares that kernel with the newest published one.
func Decide(in Input) Report {
	r := Report{Stream: in.Stream, KernelNVR: in.KernelNVR, Problems: in.Problems, Arches: []Arch{}}
	for _, arch := range in.Arches {
		a := decideArch(in, arch)
		for _, k := range a.Kmods {
			switch k.State {
			case Broken:
				r.Broken++
			case Unknown:
				r.Unknown++
			}
		}
		r.Arches = append(r.Arches, a)
	}
	return r
}

func decideArch(in Input, arch string) Arch {
	a := Arch{Arch: arch, Kmods: []Result{}}
	k, ok := find(in.Kernels, func(k Kernel) bool { return k.Arch == arch })
	switch {
	case !ok:
		a.Problem = "no kernel package for " + arch
	case k.ABI == nil:
		a.Package, a.Problem = k.Package, cmp.Or(k.Problem, "no kABI data")
	default:
		a.Package, a.Symbols = k.Package, k.ABI.Len()
	}
	var kmods []Kmod
	for _, m := range in.Kmods {
		if m.Arch == arch {
			kmods = append(kmods, m)
		}
	}
	slices.SortStableFunc(kmods, func(x, y Kmod) int { return cmp.Compare(x.Name, y.Name) })
	for _, m := range kmods {
		a.Kmods = append(a.Kmods, check(k.ABI, a.Problem, m, in.Policy))
	}
	if p, ok := find(in.Published, func(p Published) bool { return p.Arch == arch }); ok && k.ABI != nil {
		a.Against = compare(p, k.ABI, kmods)
	}
	return a
}

// check is one kmod's verdict; kernelProblem is why the kernel is unread.
func check(kernel *kabi.ABI, kernelProblem string, m Kmod, p *kabi.Policy) Result {
	r := Result{Name: m.Name, Packages: m.Packages, BuiltFor: m.BuiltFor}
	switch {
	case kernel == nil:
		r.State, r.Problem = Unknown, "kernel: "+kernelProblem
		return r
	case m.Needs == nil:
		r.State, r.Problem = Unknown, cmp.Or(m.Problem, "the kmod's packages could not be read")
		return r
	}
	v := kabi.CheckPolicy(kernel, *m.Needs, p)
	r.Checked, r.Greylisted, r.State = v.Checked, len(v.Greylist), Compatible
	for _, b := range v.Breaks() {
		if b.Action == kabi.ActionIgnore {
			continue
		}
		r.Breaks = append(r.Breaks, b)
		if b.Stablelisted {
			r.Stablelisted++
		}
	}
	if !v.Compatible {
		r.State = Broken
	}
	return r
}

// compare diffs the newest published kernel with the reference kernel.
func compare(p Published, ref *kabi.ABI, kmods []Kmod) *Comparison {
	c := &Comparison{Published: p.NVR}
	if p.ABI == nil {
		c.Problem = cmp.Or(p.Problem, "no kABI data")
		return c
	}
	d := kabi.Diff(p.ABI, ref)
	c.Added, c.Removed, c.Changed = len(d.Added), len(d.Removed), len(d.CRCChanged)
	used := map[string]bool{}
	for _, m := range kmods {
		if m.Needs != nil {
			for _, n := range m.Needs.Needs {
				used[n.Name] = true
			}
		}
	}
	for _, ch := range slices.Concat(d.Removed, d.CRCChanged) {
		if ch.Stablelisted {
			c.Stablelisted = append(c.Stablelisted, ch.Name)
		}
		if used[ch.Name] {
			c.Used = append(c.Used, ch.Name)
		}
	}
	slices.Sort(c.Stablelisted)
	slices.Sort(c.Used)
	return c
}

func find[T any](l []T, keep func(T) bool) (T, bool) {
	for _, x := range l {
		if keep(x) {
			return x, true
		}
	}
	var zero T
	return zero, false
}

// BrokenKmods returns the names of the kmods broken on some arch, sorted.
func (r Report) BrokenKmods() []string {
	var out []string
	for _, a := range r.Arches {
		for _, k := range a.Kmods {
			if k.State == Broken {
				out = append(out, k.Name)
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
