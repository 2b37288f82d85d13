package pipeline

import (
	"fmt"
	"slices"
	"strings"
)

// GateCondition is a reason to hold a kernel for an operator's approval,
// as `gate.on` in the configuration lists them.
type GateCondition string

// Gate conditions.
const (
	GateKmodFailed        GateCondition = "kmod-failed"        // a kmod failed to rebuild
	GateStablelistChanged GateCondition = "stablelist-changed" // a stablelisted symbol changed
	GateKabiChanged       GateCondition = "kabi-changed"       // any exported symbol's CRC changed or was removed
	GateAlways            GateCondition = "always"             // every kernel
)

// GateConditions lists every condition.
var GateConditions = []GateCondition{GateKmodFailed, GateStablelistChanged, GateKabiChanged, GateAlways}

// KmodFailure is a kmod that failed, and why.
type KmodFailure struct {
	Name   string
	Reason string
}

// GateFacts is what a rebuild knows when the gate decides.
type GateFacts struct {
	// NoBoot holds, per arch that did not boot, the boot test's reason;
	// a kernel that does not boot always waits.
	NoBoot map[string]string
	// Arches orders NoBoot.
	Arches []string
	// KernelNVR names the kernel in the boot reasons.
	KernelNVR string
	// Failed lists the kmods that failed, in plan order.
	Failed []KmodFailure
	// Held lists the kmods a kABI policy holds (each with its arch and
	// the changes); they always hold the gate.
	Held []string
	// StablelistChanged lists the stablelisted symbols that changed.
	StablelistChanged []string
	// KabiChanged counts the exported symbols changed or removed.
	KabiChanged int
}

// GateReasons says why a kernel waits for an operator under the conditions
// on, one reason a line; none means the gate is open. A kernel that does
// not boot and kmods a kABI policy holds wait whatever the conditions.
func GateReasons(on []GateCondition, f GateFacts) []string {
	var why []string
	for _, arch := range f.Arches {
		if reason, ok := f.NoBoot[arch]; ok {
			why = append(why, fmt.Sprintf("kernel %s does not boot on %s: %s", f.KernelNVR, arch, reason))
		}
	}
	if slices.Contains(on, GateAlways) {
		why = append(why, "every kernel waits for approval (gate: always)")
	}
	if slices.Contains(on, GateKmodFailed) {
		for _, k := range f.Failed {
			why = append(why, "kmod "+k.Name+" failed: "+k.Reason)
		}
	}
	for _, h := range f.Held {
		why = append(why, "kABI policy holds kmod "+h)
	}
	if slices.Contains(on, GateStablelistChanged) && len(f.StablelistChanged) > 0 {
		why = append(why, "stablelisted symbols changed: "+joinMax(f.StablelistChanged, 10))
	}
	if slices.Contains(on, GateKabiChanged) && f.KabiChanged > 0 {
		why = append(why, "kABI changed")
	}
	return why
}

// joinMax joins the first n of s with commas, and an ellipsis for the rest.
func joinMax(s []string, n int) string {
	if len(s) > n {
		return strings.Join(s[:n], ", ") + ", …"
	}
	return strings.Join(s, ", ")
}
