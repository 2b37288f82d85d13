package pipeline

import "strings"

// RebuildReason decides whether a kmod is rebuilt for a new kernel on one
// arch, from the analysis' verdict: it returns why, or "" when the
// published build is kept. A kmod with no published build is built; one
// whose kABI requirements broke is rebuilt (the gate may also hold, see
// KmodVerdict.HoldsGate); one with the rebuild policy "always" is rebuilt
// for every kernel.
func RebuildReason(spec KmodSpec, v KmodVerdict) string {
	switch {
	case v.Published == nil:
		return "no published build"
	case !v.Compatible:
		return "kABI broke: " + strings.Join(v.Breaks, ", ")
	case spec.Always:
		return "rebuild policy always"
	}
	return ""
}
