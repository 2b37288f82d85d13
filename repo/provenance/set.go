package provenance

import (
	"path"
	"strings"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Set is a repository's provenance records, and the questions the
// pipeline asks of them.
type Set struct {
	records []pipeline.Provenance
}

// NewSet returns the set of records.
func NewSet(recs []pipeline.Provenance) Set { return Set{records: recs} }

// Records returns every record.
func (s Set) Records() []pipeline.Provenance { return s.records }

// PreviousKernel returns the newest kernel published for arch before
// kernelNVR, nil for none.
func (s Set) PreviousKernel(arch, kernelNVR string) *pipeline.Published {
	return s.Newest(arch, func(p pipeline.Provenance) bool {
		return p.Kind == pipeline.KindKernel && CompareKernel(p.KernelNVR, kernelNVR) < 0
	})
}

// NewestKernel returns the newest kernel published for arch, nil for none.
func (s Set) NewestKernel(arch string) *pipeline.Published {
	return s.Newest(arch, func(p pipeline.Provenance) bool { return p.Kind == pipeline.KindKernel })
}

// Kmod returns the newest published build of a kmod for arch, nil for none.
func (s Set) Kmod(arch, name string) *pipeline.Published {
	return s.Newest(arch, func(p pipeline.Provenance) bool { return p.Kind == pipeline.KindKmod && p.Kmod == name })
}

// Newest returns the newest build matching keep whose packages are of arch
// or noarch (by the kernel it was built for, then record time), its
// records grouped by source RPM; nil for none.
func (s Set) Newest(arch string, keep func(pipeline.Provenance) bool) *pipeline.Published {
	var best *pipeline.Provenance
	for i, r := range s.records {
		if !keep(r) || !OfArch(r.RPM.Name, arch) {
			continue
		}
		if best == nil || CompareKernel(r.KernelNVR, best.KernelNVR) > 0 ||
			(r.KernelNVR == best.KernelNVR && r.Time.After(best.Time)) {
			best = &s.records[i]
		}
	}
	if best == nil {
		return nil
	}
	out := &pipeline.Published{SRPM: best.SourceRPM, KernelNVR: best.KernelNVR}
	for _, r := range s.records {
		if r.SourceRPM.SHA256 == best.SourceRPM.SHA256 && keep(r) && OfArch(r.RPM.Name, arch) {
			out.RPMs = append(out.RPMs, r.RPM)
		}
	}
	return out
}

// Arch returns the arch of an RPM file name (name-v-r.arch.rpm).
func Arch(name string) string {
	ext := path.Ext(strings.TrimSuffix(name, ".rpm"))
	return ext[min(1, len(ext)):]
}

// OfArch reports whether an RPM file installs on arch: it is of that arch
// or noarch.
func OfArch(name, arch string) bool {
	a := Arch(name)
	return a == arch || a == "noarch"
}

// CompareKernel orders kernel version-releases ("4.18.0-80.el8") as rpm
// does.
func CompareKernel(a, b string) int {
	av, ar, _ := strings.Cut(a, "-")
	bv, br, _ := strings.Cut(b, "-")
	return rpm.CompareEVR("", av, ar, "", bv, br)
}
