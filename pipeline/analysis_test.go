package pipeline

import (
	"fmt"
	"slices"
	"testing"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

// TestDecideAnalysis reads as a table: the analyses of each arch → which
// kmods are rebuilt and why, what broke, and whether the gate has a break
// to hold for.
func TestDecideAnalysis(t *testing.T) {
	pub := &Published{KernelNVR: "5.14.0-70.el9"}
	ok := func(name string) KmodVerdict {
		return KmodVerdict{Name: name, Published: pub, Compatible: true, Greylist: 1}
	}
	broke := func(name string, action kabi.Action, syms ...string) KmodVerdict {
		return KmodVerdict{Name: name, Published: pub, Breaks: syms, Action: action}
	}
	an := func(arch string, changed int, stable []string, kmods ...KmodVerdict) Analysis {
		return Analysis{Arch: arch, Previous: "5.14.0-70.el9", Changed: changed, StablelistChanged: stable, Kmods: kmods}
	}
	plan := []KmodSpec{{Name: "a"}, {Name: "b"}, {Name: "c", Always: true}}
	cases := []struct {
		name     string
		analyses []Analysis
		rebuild  []string // "kmod=reason" for each rebuilt kmod, in plan order
		broken   bool
		held     []string
		kabi     string // "added/removed/changed stablelisted"
	}{
		{"compatible everywhere: only the always-kmod is rebuilt",
			[]Analysis{an("x86_64", 3, nil, ok("a"), ok("b"), ok("c"))},
			[]string{"c=rebuild policy always"}, false, nil, "0/0/3 []"},
		{"never published: built",
			[]Analysis{an("x86_64", 0, nil, KmodVerdict{Name: "a", Compatible: true}, ok("b"), ok("c"))},
			[]string{"a=no published build", "c=rebuild policy always"}, false, nil, "0/0/0 []"},
		{"broken on one arch only: rebuilt, broken, not held",
			[]Analysis{an("x86_64", 5, nil, ok("a"), ok("b"), ok("c")), an("aarch64", 7, nil, broke("a", "", "pci_foo"), ok("b"), ok("c"))},
			[]string{"a=kABI broke: pci_foo", "c=rebuild policy always"}, true, nil, "0/0/7 []"},
		{"hold-gate policy: held with the arch and symbols",
			[]Analysis{an("x86_64", 1, nil, broke("b", kabi.ActionHoldGate, "x", "y"), ok("a"), ok("c"))},
			[]string{"b=kABI broke: x, y", "c=rebuild policy always"}, true, []string{"b on x86_64: x, y"}, "0/0/1 []"},
		{"stablelisted change alone: broken, nothing else rebuilt",
			[]Analysis{an("x86_64", 1, []string{"s1"}, ok("a"), ok("b")), an("aarch64", 1, []string{"s1", "s2"}, ok("a"), ok("b"))},
			nil, true, nil, "0/0/1 [s1 s2]"},
		{"a verdict for a kmod the plan does not hold is ignored",
			[]Analysis{an("x86_64", 0, nil, broke("zz", kabi.ActionHoldGate, "q"), ok("a"), ok("b"), ok("c"))},
			[]string{"c=rebuild policy always"}, false, nil, "0/0/0 []"},
	}
	for _, tc := range cases {
		d := DecideAnalysis(plan, tc.analyses)
		var rebuild []string
		for _, k := range plan {
			if why := d.Kmods[k.Name].Rebuild; why != "" {
				rebuild = append(rebuild, k.Name+"="+why)
			}
		}
		if !slices.Equal(rebuild, tc.rebuild) {
			t.Errorf("%s: rebuilt %q, want %q", tc.name, rebuild, tc.rebuild)
		}
		if d.Broken != tc.broken || !slices.Equal(d.Kabi.Held, tc.held) {
			t.Errorf("%s: broken %v held %q, want %v %q", tc.name, d.Broken, d.Kabi.Held, tc.broken, tc.held)
		}
		if got := fmt.Sprintf("%d/%d/%d %v", d.Kabi.Added, d.Kabi.Removed, d.Kabi.Changed, d.Kabi.StablelistChanged); got != tc.kabi {
			t.Errorf("%s: kabi %s, want %s", tc.name, got, tc.kabi)
		}
		if n := len(d.Kabi.Reports); n != 2*len(tc.analyses) {
			t.Errorf("%s: %d reports, want text and JSON per arch", tc.name, n)
		}
	}
}
