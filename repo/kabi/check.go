package kabi

import "sort"

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
}

// Break is one needed symbol the kernel does not provide as required.
type Break struct {
	Name string `json:"name"`
	// Want is the CRC the kmod was built against (0 with HasCRC false).
	Want   CRC  `json:"want"`
	HasCRC bool `json:"has_crc"`
	// Have is the kernel's CRC; zero for a missing symbol.
	Have CRC `json:"have,omitempty"`
	// Module is the kernel module exporting the symbol, when known.
	Module string `json:"module,omitempty"`
	// Stablelisted is true when the symbol is on the kernel's stablelist;
	// a break off the list (the "greylist") is one Red Hat never promised.
	Stablelisted bool `json:"stablelisted"`
}

// Verdict is the outcome of checking one kmod against one kernel.
type Verdict struct {
	Kmod       string `json:"kmod"`
	Kernel     string `json:"kernel"`
	Compatible bool   `json:"compatible"`
	// Checked counts the symbols looked up.
	Checked int `json:"checked"`
	// Missing symbols are not exported by the kernel at all.
	Missing []Break `json:"missing"`
	// Mismatched symbols are exported with a different CRC.
	Mismatched []Break `json:"mismatched"`
}

// StablelistedBreaks counts the breaks on symbols of the stablelist.
func (v *Verdict) StablelistedBreaks() int {
	n := 0
	for _, l := range [][]Break{v.Missing, v.Mismatched} {
		for _, b := range l {
			if b.Stablelisted {
				n++
			}
		}
	}
	return n
}

// Check decides whether kmod loads on kernel: every needed symbol must be
// exported, with the same CRC when the need carries one.
func Check(kernel *ABI, kmod Kmod) Verdict {
	v := Verdict{Kmod: kmod.Name, Kernel: kernel.Name, Checked: len(kmod.Needs),
		Missing: []Break{}, Mismatched: []Break{}} // [] rather than null in JSON
	for _, n := range kmod.Needs {
		i, ok := kernel.index[n.Name]
		if !ok {
			v.Missing = append(v.Missing, Break{Name: n.Name, Want: n.CRC, HasCRC: n.HasCRC,
				Stablelisted: kernel.Stablelisted(n.Name)})
			continue
		}
		s := &kernel.list[i]
		switch {
		case n.HasCRC && s.CRC != n.CRC:
			v.Mismatched = append(v.Mismatched, Break{Name: n.Name, Want: n.CRC, HasCRC: true,
				Have: s.CRC, Module: s.Module, Stablelisted: s.Stablelisted})
		}
	}
	v.Compatible = len(v.Missing) == 0 && len(v.Mismatched) == 0
	sortBreaks(v.Missing)
	sortBreaks(v.Mismatched)
	return v
}

// CheckAll checks every kmod against kernel, in order.
func CheckAll(kernel *ABI, kmods []Kmod) []Verdict {
	out := make([]Verdict, len(kmods))
	for i, k := range kmods {
		out[i] = Check(kernel, k)
	}
	return out
}

func sortBreaks(l []Break) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].Stablelisted != l[j].Stablelisted {
			return l[i].Stablelisted
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
