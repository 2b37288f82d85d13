package publish

import (
	"slices"
	"strings"

	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Retention says which kernels a repository keeps.
type Retention struct {
	// Kernels is how many of the newest kernel builds to keep per
	// architecture; 0 keeps all.
	Kernels int
	// Sources are the source package names whose builds count as kernels;
	// nil means "kernel".
	Sources []string
}

// build is one source RPM's binary packages of one architecture.
type build struct {
	srpm     rpm.NEVRA
	arch     string
	pkgs     []*repodata.Package
	provides []repodata.Dep
}

// retain returns the packages of pkgs that r keeps: the newest r.Kernels
// kernel builds per architecture with all their subpackages, and every
// other package except kmods that only dropped kernels satisfy. A kmod is
// a package requiring kernel(...) symbols; it is still needed when some
// kept kernel of its architecture provides every kernel(...) symbol it
// requires with the same version (CRC).
func (r Retention) retain(pkgs []*repodata.Package) (kept, dropped []*repodata.Package) {
	if r.Kernels <= 0 {
		return pkgs, nil
	}
	sources := r.Sources
	if len(sources) == 0 {
		sources = []string{"kernel"}
	}
	builds := map[string]*build{} // srpm NVR + arch
	var order []*build
	for _, p := range pkgs {
		n, ok := srpmNEVR(p.SourceRPM)
		if !ok || !slices.Contains(sources, n.Name) || p.Arch == "noarch" || p.Arch == "src" {
			continue
		}
		id := n.Name + "-" + n.EVR() + "." + p.Arch
		b := builds[id]
		if b == nil {
			b = &build{srpm: n, arch: p.Arch}
			builds[id] = b
			order = append(order, b)
		}
		b.pkgs = append(b.pkgs, p)
		b.provides = append(b.provides, p.Provides...)
	}
	byArch := map[string][]*build{}
	for _, b := range order {
		byArch[b.arch] = append(byArch[b.arch], b)
	}
	drop := map[*repodata.Package]bool{}
	var keptBuilds, droppedBuilds []*build
	keptSRPM := map[string]bool{}
	for _, bs := range byArch {
		slices.SortFunc(bs, func(a, b *build) int {
			return -rpm.CompareEVR(a.srpm.Epoch, a.srpm.Version, a.srpm.Release, b.srpm.Epoch, b.srpm.Version, b.srpm.Release)
		})
		for i, b := range bs {
			if i < r.Kernels {
				keptBuilds = append(keptBuilds, b)
				keptSRPM[b.srpm.Name+"-"+b.srpm.EVR()] = true
				continue
			}
			droppedBuilds = append(droppedBuilds, b)
			for _, p := range b.pkgs {
				drop[p] = true
			}
		}
	}
	for _, p := range pkgs {
		// noarch subpackages (kernel-doc, kernel-abi-stablelists) go with
		// the last architecture build of their source.
		if n, ok := srpmNEVR(p.SourceRPM); ok && p.Arch == "noarch" && slices.Contains(sources, n.Name) {
			if !keptSRPM[n.Name+"-"+n.EVR()] && len(droppedBuilds) > 0 && builtBy(droppedBuilds, n) {
				drop[p] = true
			}
		}
	}
	for _, p := range pkgs {
		if drop[p] || !isKmod(p) {
			continue
		}
		if satisfiedByAny(p, droppedBuilds) && !satisfiedByAny(p, keptBuilds) {
			drop[p] = true
		}
	}
	for _, p := range pkgs {
		if drop[p] {
			dropped = append(dropped, p)
		} else {
			kept = append(kept, p)
		}
	}
	return kept, dropped
}

func builtBy(bs []*build, n rpm.NEVRA) bool {
	for _, b := range bs {
		if b.srpm == n {
			return true
		}
	}
	return false
}

// srpmNEVR parses a SOURCERPM value such as kernel-4.18.0-80.el8.src.rpm.
func srpmNEVR(s string) (rpm.NEVRA, bool) {
	s, ok := strings.CutSuffix(s, ".src.rpm")
	if !ok {
		return rpm.NEVRA{}, false
	}
	n, err := rpm.ParseNEVR(s)
	if err != nil {
		return rpm.NEVRA{}, false
	}
	n.Arch = ""
	return n, true
}

// isKmod reports whether p requires kernel(...) symbols.
func isKmod(p *repodata.Package) bool {
	for _, d := range p.Requires {
		if strings.HasPrefix(d.Name, "kernel(") {
			return true
		}
	}
	return false
}

// satisfiedByAny reports whether some build of p's architecture provides
// every kernel(...) symbol p requires.
func satisfiedByAny(p *repodata.Package, bs []*build) bool {
	for _, b := range bs {
		if (b.arch == p.Arch || p.Arch == "noarch") && satisfies(b.provides, p.Requires) {
			return true
		}
	}
	return false
}

func satisfies(provides, requires []repodata.Dep) bool {
	for _, req := range requires {
		if !strings.HasPrefix(req.Name, "kernel(") {
			continue
		}
		if !slices.ContainsFunc(provides, func(pr repodata.Dep) bool { return rpm.Overlaps(rpmDep(pr), rpmDep(req)) }) {
			return false
		}
	}
	return true
}

// rpmDep is an rpm-md dependency as rpm.Overlaps takes it.
func rpmDep(d repodata.Dep) rpm.Dep {
	return rpm.Dep{Name: d.Name, Flags: rpm.ParseFlags(d.Flags), Epoch: d.Epoch, Version: d.Version, Release: d.Release}
}
