package pipeline

import (
	"slices"
	"testing"
)

func TestGateReasons(t *testing.T) {
	def := []GateCondition{GateKmodFailed, GateStablelistChanged}
	failed := GateFacts{Failed: []KmodFailure{{"e1000e", "build failed: exit 1"}}}
	tests := []struct {
		name string
		on   []GateCondition
		f    GateFacts
		want []string
	}{
		{"nothing happened, default gate", def, GateFacts{}, nil},
		{"no conditions", nil, GateFacts{Failed: failed.Failed, StablelistChanged: []string{"kfree"}, KabiChanged: 3}, nil},
		{"kmod failed, default gate", def, failed, []string{"kmod e1000e failed: build failed: exit 1"}},
		{"kmod failed, gate on kabi-changed only", []GateCondition{GateKabiChanged}, failed, nil},
		{"stablelist changed", def, GateFacts{StablelistChanged: []string{"kfree", "kmalloc"}},
			[]string{"stablelisted symbols changed: kfree, kmalloc"}},
		{"eleven stablelisted symbols: ten named", def, GateFacts{StablelistChanged: []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"}},
			[]string{"stablelisted symbols changed: a, b, c, d, e, f, g, h, i, j, …"}},
		{"kabi changed, default gate", def, GateFacts{KabiChanged: 5}, nil},
		{"kabi changed, gate on it", []GateCondition{GateKabiChanged}, GateFacts{KabiChanged: 5}, []string{"kABI changed"}},
		{"always, nothing happened", []GateCondition{GateAlways}, GateFacts{}, []string{"every kernel waits for approval (gate: always)"}},
		{"always does not name other conditions", []GateCondition{GateAlways}, failed, []string{"every kernel waits for approval (gate: always)"}},
		{"policy hold, no conditions", nil, GateFacts{Held: []string{"kfcount on x86_64: gpl-only mutex_lock"}},
			[]string{"kABI policy holds kmod kfcount on x86_64: gpl-only mutex_lock"}},
		{"no boot, no conditions, in arch order", nil, GateFacts{KernelNVR: "6.1.0-57.el8", Arches: []string{"x86_64", "aarch64"},
			NoBoot: map[string]string{"aarch64": "panic", "x86_64": "timeout"}},
			[]string{"kernel 6.1.0-57.el8 does not boot on x86_64: timeout", "kernel 6.1.0-57.el8 does not boot on aarch64: panic"}},
		{"everything, every condition", GateConditions, GateFacts{KernelNVR: "k", Arches: []string{"x86_64"}, NoBoot: map[string]string{"x86_64": "oops"},
			Failed: failed.Failed, Held: []string{"h"}, StablelistChanged: []string{"kfree"}, KabiChanged: 1},
			[]string{"kernel k does not boot on x86_64: oops", "every kernel waits for approval (gate: always)",
				"kmod e1000e failed: build failed: exit 1", "kABI policy holds kmod h", "stablelisted symbols changed: kfree", "kABI changed"}},
	}
	for _, tt := range tests {
		if got := GateReasons(tt.on, tt.f); !slices.Equal(got, tt.want) {
			t.Errorf("%s: GateReasons = %q, want %q", tt.name, got, tt.want)
		}
	}
}
