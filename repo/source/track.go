package source

import (
	"slices"

	"github.com/kabiforge/kabiforge/repo/kernelnvr"
)

// Tracked is a source package a stream rule selected.
type Tracked struct {
	Package
	NVR kernelnvr.NVR
}

// Track returns the source packages (arch src) whose NVR parses as a
// kernel NVR and that rule selects, oldest first in rpm's version order,
// one per NVR (the first listed wins).
func Track(pkgs []Package, rule kernelnvr.Rule) []Tracked {
	var out []Tracked
	for _, p := range pkgs {
		if !p.IsSource() || p.NEVRA.Epoch != "" {
			continue
		}
		n, err := kernelnvr.Parse(p.NEVRA.NVR())
		if err != nil || n.Name != p.NEVRA.Name || !rule.Match(n) {
			continue
		}
		out = append(out, Tracked{Package: p, NVR: n})
	}
	slices.SortStableFunc(out, func(a, b Tracked) int { return kernelnvr.Compare(a.NVR, b.NVR) })
	return slices.CompactFunc(out, func(a, b Tracked) bool { return kernelnvr.Compare(a.NVR, b.NVR) == 0 })
}
