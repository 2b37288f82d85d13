package kabi

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Need is one kernel symbol a kmod uses, with the CRC it was built against.
type Need struct {
	Name string `json:"name"`
	CRC  CRC    `json:"crc"`
	// HasCRC is false for a symbol known only as undefined in a .ko without
	// a __versions entry: only its presence can be checked.
	HasCRC bool `json:"has_crc"`
}

// Kmod is a kernel module package (or a single .ko) and the symbols it needs.
type Kmod struct {
	// Name identifies the kmod: a package NEVRA or a file name.
	Name  string `json:"name"`
	Needs []Need `json:"needs"`
	// Modules are the kmod's kernel modules' .modinfo, when its .ko files
	// were read; empty for a kmod known only by its RPM Requires.
	Modules []ModInfo `json:"modules,omitempty"`
}

// Kind is a reason a module would not load.
type Kind string

// The reasons Check reports.
const (
	KindCRC       Kind = "crc"       // exported with a different CRC
	KindRemoved   Kind = "removed"   // not exported at all
	KindGPLOnly   Kind = "gpl-only"  // GPL-only export used by a module whose licence is not GPL-compatible
	KindNamespace Kind = "namespace" // exported in a namespace the module does not import
	KindVermagic  Kind = "vermagic"  // vermagic flags differ from the kernel's
	KindDepends   Kind = "depends"   // a depends= module the kernel does not ship
)

// Break is one reason a kmod would not load on a kernel: a needed symbol
// missing or changed, or (with Object set) a refusal of one of its modules.
type Break struct {
	Kind Kind   `json:"kind"`
	Name string `json:"name"`
	// Want is the CRC the kmod was built against (0 with HasCRC false).
	Want   CRC  `json:"want"`
	HasCRC bool `json:"has_crc"`
	// Have is the kernel's CRC; zero for a missing symbol.
	Have CRC `json:"have,omitempty"`
	// Module is the kernel module exporting the symbol, when known.
	Module string `json:"module,omitempty"`
	// Namespace is the symbol's namespace (KindNamespace).
	Namespace string `json:"namespace,omitempty"`
	// Object is the kmod's module that is refused (not for KindCRC and
	// KindRemoved, which hold for every module using the symbol).
	Object string `json:"object,omitempty"`
	// Detail says what was found, for people.
	Detail string `json:"detail,omitempty"`
	// Stablelisted is true when the symbol is on the kernel's stablelist;
	// a break off the list (the "greylist") is one Red Hat never promised.
	Stablelisted bool `json:"stablelisted"`
	// Action is what the policy decided for this break.
	Action Action `json:"action,omitempty"`
}

// Verdict is the outcome of checking one kmod against one kernel.
type Verdict struct {
	Kmod   string `json:"kmod"`
	Kernel string `json:"kernel"`
	// Compatible is true when no break is left after the policy (every
	// break, if any, is ignored).
	Compatible bool `json:"compatible"`
	// Action is the strongest action of the breaks; "" with none.
	Action Action `json:"action,omitempty"`
	// Checked counts the symbols looked up.
	Checked int `json:"checked"`
	// Missing symbols are not exported by the kernel at all.
	Missing []Break `json:"missing"`
	// Mismatched symbols are exported with a different CRC.
	Mismatched []Break `json:"mismatched"`
	// Refused are the kmod's modules' other reasons not to load: GPL-only
	// exports, namespaces, vermagic, depends.
	Refused []Break `json:"refused"`
	// Greylist are the symbols the kmod uses that are not on the kernel's
	// stablelist, sorted; nil when the kernel has no stablelist.
	Greylist []string `json:"greylist,omitempty"`
}

// Breaks returns every break: mismatched, missing, then refused.
func (v *Verdict) Breaks() []Break {
	out := make([]Break, 0, len(v.Missing)+len(v.Mismatched)+len(v.Refused))
	out = append(out, v.Mismatched...)
	out = append(out, v.Missing...)
	return append(out, v.Refused...)
}

// StablelistedBreaks counts the breaks on symbols of the stablelist.
func (v *Verdict) StablelistedBreaks() int {
	n := 0
	for _, b := range v.Breaks() {
		if b.Stablelisted {
			n++
		}
	}
	return n
}

// Check decides whether kmod loads on kernel under the default policy
// (every break fails the kmod): see CheckPolicy.
func Check(kernel *ABI, kmod Kmod) Verdict { return CheckPolicy(kernel, kmod, nil) }

// CheckPolicy decides whether kmod loads on kernel: every needed symbol
// must be exported, with the same CRC when the need carries one; and for
// each module whose .modinfo is known, GPL-only exports need a GPL-compatible
// licence, namespaced exports an import_ns, the vermagic flags must equal
// the kernel's and depends= modules must be shipped by the kernel (the last
// two when the kernel's vermagic and module list are known). p decides what
// each break does; nil is the default policy.
func CheckPolicy(kernel *ABI, kmod Kmod, p *Policy) Verdict {
	v := Verdict{Kmod: kmod.Name, Kernel: kernel.Name, Checked: len(kmod.Needs),
		Missing: []Break{}, Mismatched: []Break{}, Refused: []Break{}} // [] rather than null in JSON
	for _, n := range kmod.Needs {
		i, ok := kernel.index[n.Name]
		if !ok {
			v.Missing = append(v.Missing, Break{Kind: KindRemoved, Name: n.Name, Want: n.CRC, HasCRC: n.HasCRC,
				Stablelisted: kernel.Stablelisted(n.Name)})
			continue
		}
		if s := &kernel.list[i]; n.HasCRC && s.CRC != n.CRC {
			v.Mismatched = append(v.Mismatched, Break{Kind: KindCRC, Name: n.Name, Want: n.CRC, HasCRC: true,
				Have: s.CRC, Module: s.Module, Namespace: s.Namespace, Stablelisted: s.Stablelisted})
		}
	}
	own := make(map[string]bool, len(kmod.Modules))
	for i := range kmod.Modules {
		own[ModuleName(kmod.Modules[i].Name)] = true
	}
	for i := range kmod.Modules {
		v.Refused = append(v.Refused, refusals(kernel, &kmod.Modules[i], own)...)
	}
	v.Greylist = greylist(kernel, kmod.Needs)
	sortBreaks(v.Missing)
	sortBreaks(v.Mismatched)
	sortBreaks(v.Refused)
	p.Apply(kmod.Name, &v)
	return v
}

// refusals are the reasons the kernel's loader would refuse module m
// besides CRCs; own are the names of the modules shipped with it.
func refusals(kernel *ABI, m *ModInfo, own map[string]bool) []Break {
	var out []Break
	gpl := GPLCompatible(m.License)
	for _, name := range m.Uses {
		i, ok := kernel.index[name]
		if !ok {
			continue // reported as removed
		}
		s := &kernel.list[i]
		if !gpl && isGPLOnly(s.Export) {
			out = append(out, Break{Kind: KindGPLOnly, Name: name, Module: s.Module, Object: m.Name,
				Stablelisted: s.Stablelisted,
				Detail:       s.Export + ", module licence " + strconv.Quote(m.License) + " is not GPL-compatible"})
		}
		if s.Namespace != "" && !m.imports(s.Namespace) {
			out = append(out, Break{Kind: KindNamespace, Name: name, Module: s.Module, Namespace: s.Namespace,
				Object: m.Name, Stablelisted: s.Stablelisted,
				Detail: "exported in namespace " + s.Namespace + ", which the module does not import"})
		}
	}
	if kernel.Vermagic != "" && m.Vermagic != "" && VermagicFlags(kernel.Vermagic) != VermagicFlags(m.Vermagic) {
		out = append(out, Break{Kind: KindVermagic, Object: m.Name,
			Detail: fmt.Sprintf("vermagic flags %q, kernel has %q", VermagicFlags(m.Vermagic), VermagicFlags(kernel.Vermagic))})
	}
	for _, d := range m.Depends {
		if has, known := kernel.HasModule(d); known && !has && !own[ModuleName(d)] {
			out = append(out, Break{Kind: KindDepends, Name: d, Object: m.Name,
				Detail: fmt.Sprintf("depends on module %s, which the kernel does not ship", d)})
		}
	}
	return out
}

// isGPLOnly reports whether an export macro restricts the symbol to
// GPL-compatible modules (EXPORT_SYMBOL_GPL, EXPORT_SYMBOL_NS_GPL, …).
func isGPLOnly(export string) bool { return strings.HasSuffix(export, "_GPL") }

// greylist returns the needed symbols off the kernel's stablelist, sorted;
// nil when the kernel has none. module_layout, the pseudo-symbol that
// guards struct module, is left out.
func greylist(kernel *ABI, needs []Need) []string {
	if kernel.stable == nil {
		return nil
	}
	out := make([]string, 0, len(needs))
	for _, n := range needs {
		if n.Name != "module_layout" && !kernel.stable.Contains(n.Name) {
			out = append(out, n.Name)
		}
	}
	if !sort.StringsAreSorted(out) { // needs read from .ko files come sorted
		sort.Strings(out)
	}
	return out
}

// CheckAll checks every kmod against kernel under policy p, in order.
func CheckAll(kernel *ABI, kmods []Kmod, p *Policy) []Verdict {
	out := make([]Verdict, len(kmods))
	for i, k := range kmods {
		out[i] = CheckPolicy(kernel, k, p)
	}
	return out
}

func sortBreaks(l []Break) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].Stablelisted != l[j].Stablelisted {
			return l[i].Stablelisted
		}
		if l[i].Object != l[j].Object {
			return l[i].Object < l[j].Object
		}
		if l[i].Kind != l[j].Kind {
			return l[i].Kind < l[j].Kind
		}
		return l[i].Name < l[j].Name
	})
}

// Needs returns the ABI's symbols as needs with their CRCs, sorted by name:
// a Module.symvers-format list read as what a kmod requires.
func (a *ABI) Needs() []Need {
	syms := a.Symbols()
	out := make([]Need, len(syms))
	for i, s := range syms {
		out[i] = Need{Name: s.Name, CRC: s.CRC, HasCRC: true}
	}
	return out
}
