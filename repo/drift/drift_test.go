package drift

import (
	"maps"
	"slices"
	"testing"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

// abi builds a kernel ABI of name=crc pairs; stable symbols are stablelisted.
func abi(t *testing.T, syms map[string]kabi.CRC, stable ...string) *kabi.ABI {
	t.Helper()
	a := kabi.NewABI("kernel")
	for _, n := range slices.Sorted(maps.Keys(syms)) {
		if err := a.Add(kabi.Symbol{Name: n, CRC: syms[n], Module: "vmlinux", Export: "EXPORT_SYMBOL"}); err != nil {
			t.Fatal(err)
		}
	}
	if len(stable) > 0 {
		l := kabi.NewStablelist("stablelist")
		for _, s := range stable {
			l.Add(s)
		}
		a.SetStablelist(l)
	}
	return a
}

func needs(name string, syms map[string]kabi.CRC) *kabi.Kmod {
	k := &kabi.Kmod{Name: name}
	for _, n := range slices.Sorted(maps.Keys(syms)) {
		k.Needs = append(k.Needs, kabi.Need{Name: n, CRC: syms[n], HasCRC: true})
	}
	return k
}

// outcome is what the table checks of one kmod's result.
type outcome struct {
	arch, kmod string
	state      State
	breaks     []string // "name/kind" of each break, in order
	stable     int
	problem    string
}

func TestDecide(t *testing.T) {
	n1 := map[string]kabi.CRC{"kfree": 1, "misc_register": 2, "printk": 3}
	ref := abi(t, map[string]kabi.CRC{"kfree": 1, "misc_register": 20, "new_sym": 5}, "kfree", "printk")
	both := []string{"x86_64"}
	tests := []struct {
		name     string
		in       Input
		want     []outcome
		broken   int
		unknown  int
		archProb map[string]string
	}{
		{"compatible, changed and removed symbols, stablelisted marked", Input{Arches: both,
			Kernels: []Kernel{{Arch: "x86_64", Package: "kernel-core", ABI: ref}},
			Kmods: []Kmod{
				{Name: "same", Arch: "x86_64", Needs: needs("same", map[string]kabi.CRC{"kfree": 1})},
				{Name: "changed", Arch: "x86_64", Needs: needs("changed", map[string]kabi.CRC{"kfree": 1, "misc_register": 2})},
				{Name: "removed", Arch: "x86_64", Needs: needs("removed", map[string]kabi.CRC{"printk": 3, "misc_register": 2})},
			}},
			[]outcome{
				{"x86_64", "changed", Broken, []string{"misc_register/crc"}, 0, ""},
				{"x86_64", "removed", Broken, []string{"misc_register/crc", "printk/removed"}, 1, ""},
				{"x86_64", "same", Compatible, nil, 0, ""},
			}, 2, 0, nil},
		{"a kernel without kABI data: every kmod unknown, named", Input{Arches: both,
			Kernels: []Kernel{{Arch: "x86_64", Package: "kernel-core-5.14.0-1.el9.x86_64", Problem: "kernel-core-5.14.0-1.el9.x86_64 carries no kernel(sym) Provides and no symvers"}},
			Kmods:   []Kmod{{Name: "same", Arch: "x86_64", Needs: needs("same", n1)}}},
			[]outcome{{"x86_64", "same", Unknown, nil, 0, "kernel: kernel-core-5.14.0-1.el9.x86_64 carries no kernel(sym) Provides and no symvers"}},
			0, 1, map[string]string{"x86_64": "kernel-core-5.14.0-1.el9.x86_64 carries no kernel(sym) Provides and no symvers"}},
		{"an unreadable kmod package is an entry, the others are checked", Input{Arches: both,
			Kernels: []Kernel{{Arch: "x86_64", ABI: ref}},
			Kmods: []Kmod{{Name: "bad", Arch: "x86_64", Problem: "read kmod-bad-1-1.x86_64.rpm: not an RPM (bad lead magic)"},
				{Name: "same", Arch: "x86_64", Needs: needs("same", map[string]kabi.CRC{"kfree": 1})}}},
			[]outcome{{"x86_64", "bad", Unknown, nil, 0, "read kmod-bad-1-1.x86_64.rpm: not an RPM (bad lead magic)"},
				{"x86_64", "same", Compatible, nil, 0, ""}}, 0, 1, nil},
		{"a policy that ignores a symbol makes the kmod compatible", Input{Arches: both,
			Kernels: []Kernel{{Arch: "x86_64", ABI: ref}},
			Kmods:   []Kmod{{Name: "changed", Arch: "x86_64", Needs: needs("changed", map[string]kabi.CRC{"misc_register": 2})}},
			Policy:  &kabi.Policy{Rules: []kabi.Rule{{Symbol: "misc_*", Action: kabi.ActionIgnore}}}},
			[]outcome{{"x86_64", "changed", Compatible, nil, 0, ""}}, 0, 0, nil},
		{"an arch the source lists no kernel for", Input{Arches: []string{"aarch64", "x86_64"},
			Kernels: []Kernel{{Arch: "x86_64", ABI: ref}},
			Kmods: []Kmod{{Name: "same", Arch: "aarch64", Needs: needs("same", n1)},
				{Name: "same", Arch: "x86_64", Needs: needs("same", map[string]kabi.CRC{"kfree": 1})}}},
			[]outcome{{"aarch64", "same", Unknown, nil, 0, "kernel: no kernel package for aarch64"},
				{"x86_64", "same", Compatible, nil, 0, ""}}, 0, 1, map[string]string{"aarch64": "no kernel package for aarch64"}},
		{"nothing published", Input{Arches: both, Kernels: []Kernel{{Arch: "x86_64", ABI: ref}}}, nil, 0, 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := Decide(tc.in)
			var got []outcome
			for _, a := range r.Arches {
				if a.Problem != tc.archProb[a.Arch] {
					t.Errorf("arch %s problem %q, want %q", a.Arch, a.Problem, tc.archProb[a.Arch])
				}
				for _, k := range a.Kmods {
					o := outcome{arch: a.Arch, kmod: k.Name, state: k.State, stable: k.Stablelisted, problem: k.Problem}
					for _, b := range k.Breaks {
						o.breaks = append(o.breaks, b.Name+"/"+string(b.Kind))
					}
					got = append(got, o)
				}
			}
			if !slices.EqualFunc(got, tc.want, func(a, b outcome) bool {
				return a.arch == b.arch && a.kmod == b.kmod && a.state == b.state && a.stable == b.stable &&
					a.problem == b.problem && slices.Equal(a.breaks, b.breaks)
			}) {
				t.Errorf("results\n%+v\nwant\n%+v", got, tc.want)
			}
			if r.Broken != tc.broken || r.Unknown != tc.unknown {
				t.Errorf("broken %d unknown %d, want %d %d", r.Broken, r.Unknown, tc.broken, tc.unknown)
			}
		})
	}
}

func TestDecideBreakCRCs(t *testing.T) {
	ref := abi(t, map[string]kabi.CRC{"misc_register": 0x20})
	r := Decide(Input{Arches: []string{"x86_64"}, Kernels: []Kernel{{Arch: "x86_64", ABI: ref}},
		Kmods: []Kmod{{Name: "m", Arch: "x86_64", Needs: needs("m", map[string]kabi.CRC{"misc_register": 0x2})}}})
	b := r.Arches[0].Kmods[0].Breaks
	if len(b) != 1 || b[0].Want != 0x2 || b[0].Have != 0x20 || b[0].Module != "vmlinux" {
		t.Errorf("breaks %+v, want misc_register wanted 0x2, has 0x20 in vmlinux", b)
	}
}

func TestDecideComparesWithThePublishedKernel(t *testing.T) {
	pub := abi(t, map[string]kabi.CRC{"kfree": 1, "misc_register": 2, "printk": 3, "old": 4}, "printk", "kfree")
	ref := abi(t, map[string]kabi.CRC{"kfree": 1, "misc_register": 20, "new_sym": 5}, "kfree")
	in := Input{Stream: "el9", KernelNVR: "6.1.0-57.el9", Arches: []string{"x86_64"},
		Kernels:   []Kernel{{Arch: "x86_64", ABI: ref}},
		Kmods:     []Kmod{{Name: "m", Arch: "x86_64", Needs: needs("m", map[string]kabi.CRC{"misc_register": 2, "kfree": 1})}},
		Published: []Published{{Arch: "x86_64", NVR: "6.1.0-47.el9", ABI: pub}},
		Problems:  []string{"source c9s: kernel-core-x.rpm: not an RPM"}}
	r := Decide(in)
	c := r.Arches[0].Against
	if c == nil || c.Published != "6.1.0-47.el9" || c.Added != 1 || c.Removed != 2 || c.Changed != 1 {
		t.Fatalf("comparison %+v, want against 6.1.0-47.el9: 1 added, 2 removed, 1 changed", c)
	}
	if !slices.Equal(c.Stablelisted, []string{"printk"}) || !slices.Equal(c.Used, []string{"misc_register"}) {
		t.Errorf("stablelisted %v used %v, want [printk] [misc_register]", c.Stablelisted, c.Used)
	}
	if !slices.Equal(r.Problems, in.Problems) || r.Stream != "el9" || r.KernelNVR != "6.1.0-57.el9" {
		t.Errorf("report head %+v", r)
	}
	if got := r.BrokenKmods(); !slices.Equal(got, []string{"m"}) {
		t.Errorf("BrokenKmods = %v", got)
	}
	in.Published[0] = Published{Arch: "x86_64", NVR: "6.1.0-47.el9", Problem: "kernel-core: truncated"}
	if c := Decide(in).Arches[0].Against; c == nil || c.Problem != "kernel-core: truncated" {
		t.Errorf("unread published kernel: %+v", c)
	}
}
