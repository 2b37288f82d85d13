package kabi

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
)

// ModInfo is what a kernel module's .modinfo section says about it: the
// fields the kernel's loader reads before it links the module.
type ModInfo struct {
	// Name is the module's name (name=), or its file name without .ko.
	Name string `json:"name"`
	// License is the MODULE_LICENSE string.
	License string `json:"license,omitempty"`
	// Vermagic is the kernel release and flags the module was built for.
	Vermagic string `json:"vermagic,omitempty"`
	// ImportNS are the symbol namespaces the module imports (MODULE_IMPORT_NS).
	ImportNS []string `json:"import_ns,omitempty"`
	// Depends are the modules it needs loaded first (depends=, comma-separated).
	Depends []string `json:"depends,omitempty"`
	// Uses are the symbols the module needs from outside its kmod, sorted;
	// filled by KmodFromModules.
	Uses []string `json:"uses,omitempty"`
}

// ParseModinfo decodes a .modinfo section: NUL-separated key=value strings
// (padding NULs between them are skipped). Of name, license and vermagic the
// first value counts, as for the kernel's loader (get_modinfo); import_ns and
// depends accumulate. Other keys are ignored; a string without "=" or with a
// non-printable key is an error.
func ParseModinfo(data []byte) (ModInfo, error) {
	var m ModInfo
	for i, f := range bytes.Split(data, []byte{0}) {
		if len(f) == 0 {
			continue
		}
		k, v, ok := strings.Cut(string(f), "=")
		if !ok {
			return ModInfo{}, fmt.Errorf("string %d %q is not key=value", i, truncate(string(f)))
		}
		if err := checkName("key", k); err != nil {
			return ModInfo{}, fmt.Errorf("string %d: %v", i, err)
		}
		switch k {
		case "name":
			first(&m.Name, v)
		case "license":
			first(&m.License, v)
		case "vermagic":
			first(&m.Vermagic, v)
		case "import_ns":
			if v != "" {
				m.ImportNS = append(m.ImportNS, v)
			}
		case "depends":
			for _, d := range strings.Split(v, ",") {
				if d != "" {
					m.Depends = append(m.Depends, d)
				}
			}
		}
	}
	sort.Strings(m.ImportNS)
	sort.Strings(m.Depends)
	return m, nil
}

// first sets *dst to v unless already set.
func first(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}

// imports reports whether the module imports namespace ns.
func (m *ModInfo) imports(ns string) bool {
	for _, n := range m.ImportNS {
		if n == ns {
			return true
		}
	}
	return false
}

// gplCompatible are the licence strings the kernel treats as GPL-compatible
// (include/linux/license.h, license_is_gpl_compatible).
var gplCompatible = map[string]bool{
	"GPL": true, "GPL v2": true, "GPL and additional rights": true,
	"Dual BSD/GPL": true, "Dual MIT/GPL": true, "Dual MPL/GPL": true,
}

// GPLCompatible reports whether the kernel lets a module with this
// MODULE_LICENSE use GPL-only exports.
func GPLCompatible(license string) bool { return gplCompatible[license] }

// VermagicFlags returns the flags part of a vermagic string ("SMP preempt
// mod_unload modversions"): everything after the kernel release, which
// legitimately differs for a module installed as a weak update.
func VermagicFlags(vermagic string) string {
	f := strings.Fields(vermagic)
	if len(f) < 2 {
		return ""
	}
	return strings.Join(f[1:], " ")
}

// ModuleName is the kernel's name for a module file or depends entry:
// the base name without .ko and compression suffix, '-' read as '_'.
func ModuleName(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		p = p[i+1:]
	}
	for _, ext := range []string{".xz", ".zst", ".gz"} {
		p = strings.TrimSuffix(p, ext)
	}
	p = strings.TrimSuffix(p, ".ko")
	return strings.ReplaceAll(p, "-", "_")
}
