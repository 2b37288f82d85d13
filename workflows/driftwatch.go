package workflows

import (
	"fmt"
	"slices"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kernelnvr"
)

// WatchReference is a reference kernel line of a stream at the watched
// source: its kernels are checked for drift, never rebuilt.
type WatchReference struct {
	// Version is a kernel version prefix, Release a glob.
	Version string `json:"version"`
	Release string `json:"release"`
	// Plan is the stream's.
	Plan Plan `json:"plan"`
}

// referenceCore is the package a reference kernel's kABI is read from.
const referenceCore = "kernel-core"

// rule is the reference's match over kernel-core packages; kernel SRPMs
// match too, so the watch can say they carry no kABI.
func (r WatchReference) matches(p pipeline.SourcePackage) (kernelnvr.NVR, bool) {
	n, err := kernelnvr.Parse(p.NVR())
	if err != nil {
		return n, false
	}
	for _, name := range []string{referenceCore, kernelnvr.DefaultName} {
		if (kernelnvr.Rule{Name: name, Version: r.Version, Release: r.Release}).Match(n) {
			return n, true
		}
	}
	return n, false
}

// DriftCandidates returns the drift checks a listing calls for: one per
// stream and reference kernel (version-release), holding its kernel-core
// packages for the stream's arches, newest first. A kernel listed only as
// a source package, or without kernel-core for some arch, carries the
// problem into its report.
func DriftCandidates(listing pipeline.Listing, refs []WatchReference) []DriftInput {
	type cand struct {
		nvr kernelnvr.NVR
		in  DriftInput
	}
	var cs []cand
	index := map[string]int{}
	for _, r := range refs {
		for _, p := range listing.Packages {
			n, ok := r.matches(p)
			if !ok {
				continue
			}
			key := r.Plan.Stream + "/" + n.VR()
			i, seen := index[key]
			if !seen {
				i = len(cs)
				index[key] = i
				cs = append(cs, cand{nvr: kernelnvr.NVR{Name: referenceCore, Version: n.Version, Release: n.Release, Build: n.Build, Major: n.Major, DistMinor: n.DistMinor},
					in: DriftInput{KernelNVR: n.VR(), Plan: r.Plan, Packages: []pipeline.SourcePackage{}, Problems: slices.Clone(listing.Problems)}})
			}
			c := &cs[i].in
			switch {
			case p.Name != referenceCore:
				c.Problems = append(c.Problems, fmt.Sprintf("%s is a source package: a kernel's kABI is read from kernel-core (its Provides or symvers.gz); point the reference at binary packages", p.NVR()))
			case !slices.ContainsFunc(r.Plan.Arches, func(a Arch) bool { return a.Name == p.Arch }):
			case slices.ContainsFunc(c.Packages, func(q pipeline.SourcePackage) bool { return q.Arch == p.Arch }):
				c.Problems = append(c.Problems, fmt.Sprintf("%s.%s is listed twice; the first is checked", p.NVR(), p.Arch))
			default:
				c.Packages = append(c.Packages, p)
			}
		}
	}
	slices.SortStableFunc(cs, func(a, b cand) int { return kernelnvr.Compare(b.nvr, a.nvr) })
	out := make([]DriftInput, len(cs))
	for i, c := range cs {
		out[i] = c.in
	}
	return out
}

// referenced reports whether a reference of the watch matches the kernel:
// such a kernel is checked for drift, not rebuilt.
func referenced(refs []WatchReference, p pipeline.SourcePackage) bool {
	return slices.ContainsFunc(refs, func(r WatchReference) bool { _, ok := r.matches(p); return ok })
}
