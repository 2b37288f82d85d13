package kabi

import (
	"debug/elf"
	"errors"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// ParseSymbolDep reads a kABI dependency, `kernel(sym) = 0xCRC` or
// `ksym(sym) = 0xCRC`, as kernel-core Provides and kmods Require them. ok is
// false for any other dependency, including an unversioned kernel(sym) and a
// package-level one such as `kernel(x86-64) = 4.18.0-80.el8` whose value is
// not a CRC.
func ParseSymbolDep(d rpm.Dep) (n Need, ok bool, err error) {
	var inner string
	for _, prefix := range []string{"kernel(", "ksym("} {
		if rest, found := strings.CutPrefix(d.Name, prefix); found {
			inner, ok = strings.CutSuffix(rest, ")")
			break
		}
	}
	if !ok || d.Flags&(rpm.LT|rpm.GT|rpm.EQ) != rpm.EQ || d.Epoch != "" || d.Release != "" {
		return Need{}, false, nil
	}
	v := d.Version
	if !strings.HasPrefix(v, "0x") {
		v = "0x" + v // RHEL 5 wrote bare hex
	}
	crc, err := parseCRC(v)
	if err != nil {
		return Need{}, false, nil
	}
	if err := checkName("symbol", inner); err != nil || strings.ContainsAny(inner, "()") {
		return Need{}, false, fmt.Errorf("dependency %q: bad symbol name", d.String())
	}
	return Need{Name: inner, CRC: crc, HasCRC: true}, true, nil
}

// symbolDeps returns the kABI dependencies among deps.
func symbolDeps(deps []rpm.Dep) ([]Need, error) {
	var out []Need
	for _, d := range deps {
		n, ok, err := ParseSymbolDep(d)
		if err != nil {
			return nil, err
		}
		if ok {
			out = append(out, n)
		}
	}
	return out, nil
}

// kernelRequires returns the Requires a kmod has of the kernel. Packages
// whose generator writes kernel(sym) for the kernel's symbols (RHEL 6 and
// later, kabiforge's find-requires) write ksym(sym) for symbols other kmods
// export: those are between packages, for dnf, and are left out. Packages
// with ksym(sym) only (RHEL 5) meant the kernel's symbols, and keep them.
func kernelRequires(deps []rpm.Dep) []rpm.Dep {
	var kernel []rpm.Dep
	for _, d := range deps {
		if strings.HasPrefix(d.Name, "kernel(") {
			kernel = append(kernel, d)
		}
	}
	for _, d := range kernel {
		if _, ok, _ := ParseSymbolDep(d); ok {
			return kernel
		}
	}
	return deps
}

// isSymversPath reports whether a packaged file holds a kernel's symbol
// table: kernel-devel's /usr/src/kernels/<kver>/Module.symvers, or
// kernel-core's /lib/modules/<kver>/symvers.gz (or /boot/symvers-<kver>.gz).
func isSymversPath(p string) bool {
	dir, base := path.Split(p)
	switch {
	case strings.HasPrefix(dir, "/usr/src/kernels/") && base == "Module.symvers":
		return strings.Count(dir, "/") == 5
	case strings.HasPrefix(dir, "/lib/modules/") || strings.HasPrefix(dir, "/usr/lib/modules/"):
		return strings.HasPrefix(base, "symvers") && strings.Count(strings.TrimPrefix(dir, "/usr"), "/") == 4
	case dir == "/boot/":
		return strings.HasPrefix(base, "symvers-")
	}
	return false
}

// isStablelistPath reports whether a packaged file is a kABI stablelist
// (kernel-abi-stablelists' /lib/modules/kabi-rhel*/kabi_stablelist_<arch>).
func isStablelistPath(p string) bool {
	base := path.Base(p)
	return strings.Contains(p, "/kabi-") &&
		(strings.HasPrefix(base, "kabi_stablelist_") || strings.HasPrefix(base, "kabi_whitelist_"))
}

// isModulePath reports whether a packaged file is a kernel module.
func isModulePath(p string) bool {
	for _, ext := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(p, ext) {
			return ModuleName(p) != "" // not a bare ".ko"
		}
	}
	return false
}

func hasFile(p *rpm.Package, match func(string) bool) bool {
	for _, f := range p.Files {
		if f.IsRegular() && match(f.Path) {
			return true
		}
	}
	return false
}

// KernelFromRPM reads a kernel's ABI from a package: the symbol table in its
// payload (kernel-devel's Module.symvers, kernel-core's symvers.gz), which
// carries export types and namespaces, or else its `kernel(sym) = 0xCRC` /
// `ksym(sym) = 0xCRC` Provides (kernel-core, kernel-modules); and the names
// and vermagic of the modules it ships. ok is false when the package
// carries no symbols.
func KernelFromRPM(p *rpm.Package) (abi *ABI, ok bool, err error) {
	name := p.NEVRA.String()
	needs, err := symbolDeps(p.Provides)
	if err != nil {
		return nil, false, fmt.Errorf("%s: Provides: %w", name, err)
	}
	switch {
	case hasFile(p, isSymversPath): // export types and namespaces, which Provides lack
		if abi, _, err = PayloadSymvers(p); err != nil {
			return nil, false, err
		}
	case len(needs) > 0:
		abi = NewABI(name)
		for _, n := range needs {
			if err := abi.Add(Symbol{Name: n.Name, CRC: n.CRC}); err != nil {
				return nil, false, fmt.Errorf("%s: Provides: %w", name, err)
			}
		}
	default:
		return nil, false, nil
	}
	if err := readPackagedModules(p, abi); err != nil {
		return nil, false, err
	}
	return abi, true, nil
}

// readPackagedModules records the kernel modules a kernel package ships
// (kernel-core, kernel-modules): their names from the file list, and the
// vermagic of the first one in the payload.
func readPackagedModules(p *rpm.Package, abi *ABI) error {
	if !hasFile(p, isModulePath) {
		return nil
	}
	for _, f := range p.Files {
		if f.IsRegular() && isModulePath(f.Path) {
			abi.AddModule(f.Path)
		}
	}
	name := p.NEVRA.String()
	return p.WalkPayload(func(f rpm.File, r io.Reader) error {
		if abi.Vermagic != "" || !isModulePath(f.Path) {
			return nil
		}
		m, err := ReadKernelModule(r, name+":"+f.Path)
		var notELF *elf.FormatError
		if errors.As(err, &notELF) {
			// A module file that is no ELF object at all (a synthetic
			// demo kernel) gives no vermagic to compare.
			return nil
		}
		if err != nil {
			return err
		}
		abi.Vermagic = m.Info.Vermagic
		return nil
	})
}

// PayloadSymvers reads the kernel symbol table a package ships:
// kernel-devel's /usr/src/kernels/<kver>/Module.symvers or kernel-core's
// /lib/modules/<kver>/symvers.gz (xz and zstd too). ok is false when the
// package ships none.
func PayloadSymvers(p *rpm.Package) (abi *ABI, ok bool, err error) {
	name := p.NEVRA.String()
	if !hasFile(p, isSymversPath) {
		return nil, false, nil
	}
	err = p.WalkPayload(func(f rpm.File, r io.Reader) error {
		if abi != nil || !isSymversPath(f.Path) {
			return nil
		}
		dr, err := decompress(r, name+":"+f.Path)
		if err != nil {
			return err
		}
		defer dr.Close()
		abi, err = ParseSymvers(dr, name+":"+f.Path)
		return err
	})
	if err != nil {
		return nil, false, err
	}
	if abi == nil {
		return nil, false, fmt.Errorf("%s: symbol table listed in the header is missing from the payload", name)
	}
	abi.Name = name
	return abi, true, nil
}

// StablelistFromRPM reads the kABI stablelist a package ships
// (kernel-abi-stablelists); ok is false when it ships none. Several lists
// (one per arch) are merged.
func StablelistFromRPM(p *rpm.Package) (l *Stablelist, ok bool, err error) {
	if !hasFile(p, isStablelistPath) {
		return nil, false, nil
	}
	l = NewStablelist(p.NEVRA.String())
	err = p.WalkPayload(func(f rpm.File, r io.Reader) error {
		if !isStablelistPath(f.Path) {
			return nil
		}
		one, err := ParseStablelist(r, p.NEVRA.String()+":"+f.Path)
		if err != nil {
			return err
		}
		l.Sections = append(l.Sections, one.Sections...)
		for _, s := range one.Symbols() {
			l.Add(s)
		}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return l, true, nil
}

// KmodFromRPM reads what a kmod package needs from the kernel: its
// `kernel(sym) = 0xCRC` / `ksym(sym) = 0xCRC` Requires, or, when it has none,
// the __versions and undefined symbols of the kernel modules in its payload;
// and the .modinfo of those modules when it ships any.
// ok is false when the package has neither (it is not a kmod).
func KmodFromRPM(p *rpm.Package) (k Kmod, ok bool, err error) {
	name := p.NEVRA.String()
	needs, err := symbolDeps(kernelRequires(p.Requires))
	if err != nil {
		return Kmod{}, false, fmt.Errorf("%s: Requires: %w", name, err)
	}
	if !hasFile(p, isModulePath) {
		if len(needs) == 0 {
			return Kmod{}, false, nil
		}
		return Kmod{Name: name, Needs: dedupNeeds(needs)}, true, nil
	}
	var mods []*KernelModule
	err = p.WalkPayload(func(f rpm.File, r io.Reader) error {
		if !isModulePath(f.Path) {
			return nil
		}
		m, err := ReadKernelModule(r, name+":"+f.Path)
		var notELF *elf.FormatError
		if len(needs) > 0 && errors.As(err, &notELF) {
			// The packaged Requires are what dnf checks; a payload file
			// that is no ELF object at all (the synthetic demo kmods)
			// adds no .modinfo checks, as before they were read.
			return nil
		}
		if err != nil {
			return err
		}
		mods = append(mods, m)
		return nil
	})
	if err != nil {
		return Kmod{}, false, err
	}
	k = KmodFromModules(name, mods)
	if len(needs) > 0 { // the packaged Requires are what dnf checks
		k.Needs = dedupNeeds(needs)
	}
	return k, true, nil
}

// dedupNeeds drops repeated needs of the same symbol and CRC.
func dedupNeeds(needs []Need) []Need {
	seen := make(map[Need]bool, len(needs))
	out := needs[:0]
	for _, n := range needs {
		if !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	return out
}
