// Package kabi reads kernel ABI data (Module.symvers, Module.kabi_<arch>,
// stablelists, kernel(sym) dependencies of RPMs, the __versions section of
// kernel modules) and answers two questions: what changed between two
// kernels (Diff), and does a kmod still load on a kernel (Check).
package kabi

import (
	"fmt"
	"sort"
)

// Symbol is one exported kernel symbol as Module.symvers describes it.
type Symbol struct {
	Name string `json:"name"`
	// CRC is the symbol's modversions checksum.
	CRC CRC `json:"crc"`
	// Module is the exporting module: "vmlinux" or a module path such as
	// "drivers/scsi/libfc/libfc". Empty when the source does not say (RPM Provides).
	Module string `json:"module,omitempty"`
	// Export is the export macro, e.g. EXPORT_SYMBOL or EXPORT_SYMBOL_GPL.
	Export string `json:"export,omitempty"`
	// Namespace is the symbol namespace (5.x kernels), usually empty.
	Namespace string `json:"namespace,omitempty"`
	// Stablelisted reports whether the symbol is on the kABI stablelist.
	Stablelisted bool `json:"stablelisted"`
}

// ABI is the set of symbols a kernel exports, keyed by name, together with
// the stablelist (if known) that Red Hat promises to keep stable.
type ABI struct {
	// Name says where the ABI was read from (a file or package name).
	Name   string
	list   []Symbol         // in the order added
	index  map[string]int32 // name → position in list
	stable *Stablelist
	// Vermagic is the kernel's vermagic ("6.1.0-57-cloud-amd64 SMP preempt
	// mod_unload modversions "), read from one of its own modules; "" when
	// unknown, and then no module's vermagic is checked.
	Vermagic string
	// modules are the names (ModuleName) of the kernel's own modules; nil
	// when unknown, and then no module's depends are checked.
	modules map[string]bool
}

// AddModule records that the kernel ships the module at path (a file name
// or a name as in depends=).
func (a *ABI) AddModule(path string) {
	if a.modules == nil {
		a.modules = make(map[string]bool)
	}
	a.modules[ModuleName(path)] = true
}

// HasModule reports whether the kernel ships module name, and whether the
// kernel's module list is known at all.
func (a *ABI) HasModule(name string) (has, known bool) {
	return a.modules[ModuleName(name)], a.modules != nil
}

// Modules returns the number of the kernel's own modules known.
func (a *ABI) Modules() int { return len(a.modules) }

// Merge adds what other knows and a does not: symbols, modules, vermagic.
// A symbol both export keeps a's row, completed by other's export type,
// namespace and module when a's lacks them (RPM Provides carry none) and
// the CRCs agree.
func (a *ABI) Merge(other *ABI) error {
	for _, s := range other.list {
		i, ok := a.index[s.Name]
		if !ok {
			if err := a.Add(s); err != nil {
				return err
			}
			continue
		}
		if mine := &a.list[i]; mine.Export == "" && s.Export != "" && mine.CRC == s.CRC {
			mine.Export, mine.Namespace = s.Export, s.Namespace
			if mine.Module == "" {
				mine.Module = s.Module
			}
		}
	}
	for m := range other.modules {
		a.AddModule(m)
	}
	if a.Vermagic == "" {
		a.Vermagic = other.Vermagic
	}
	return nil
}

// NewABI returns an empty ABI named name.
func NewABI(name string) *ABI { return newABI(name, 0) }

// newABI returns an empty ABI with room for n symbols.
func newABI(name string, n int) *ABI {
	return &ABI{Name: name, list: make([]Symbol, 0, n), index: make(map[string]int32, n)}
}

// Add adds s to the ABI. It fails when a symbol of the same name is already
// present with a different CRC; an identical duplicate is accepted.
func (a *ABI) Add(s Symbol) error {
	if a.stable != nil {
		s.Stablelisted = a.stable.Contains(s.Name)
	}
	if i, ok := a.index[s.Name]; ok {
		if old := a.list[i]; old.CRC != s.CRC {
			return fmt.Errorf("symbol %s exported twice with CRCs %v and %v", s.Name, old.CRC, s.CRC)
		}
		a.list[i] = s
		return nil
	}
	a.index[s.Name] = int32(len(a.list))
	a.list = append(a.list, s)
	return nil
}

// Lookup returns the symbol called name.
func (a *ABI) Lookup(name string) (Symbol, bool) {
	i, ok := a.index[name]
	if !ok {
		return Symbol{}, false
	}
	return a.list[i], true
}

// has reports whether the ABI exports name.
func (a *ABI) has(name string) bool {
	_, ok := a.index[name]
	return ok
}

// Len returns the number of symbols.
func (a *ABI) Len() int { return len(a.list) }

// Symbols returns all symbols sorted by name.
func (a *ABI) Symbols() []Symbol {
	out := append([]Symbol(nil), a.list...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SetStablelist records l as the ABI's stablelist and marks every symbol on
// it as Stablelisted (and every other symbol as not).
func (a *ABI) SetStablelist(l *Stablelist) {
	a.stable = l
	for i := range a.list {
		a.list[i].Stablelisted = l != nil && l.Contains(a.list[i].Name)
	}
}

// Stablelist returns the ABI's stablelist, or nil when none is known.
func (a *ABI) Stablelist() *Stablelist { return a.stable }

// Stablelisted reports whether name is on the ABI's stablelist, whether or
// not the kernel still exports it.
func (a *ABI) Stablelisted(name string) bool {
	return a.stable != nil && a.stable.Contains(name)
}

// AsStablelist returns a stablelist holding every symbol of the ABI; a
// Module.kabi_<arch> file is both the stablelist and its CRCs.
func (a *ABI) AsStablelist() *Stablelist {
	l := NewStablelist(a.Name)
	for _, s := range a.list {
		l.Add(s.Name)
	}
	return l
}
