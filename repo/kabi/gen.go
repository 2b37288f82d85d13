package kabi

import (
	"bytes"
	"debug/elf"
	"fmt"
	"os"
	"sort"
	"strings"
)

// FindRequires returns the kABI Requires of the kernel modules among paths
// (other files are ignored), one `kernel(sym) = 0xCRC` or `ksym(sym) =
// 0xCRC` per __versions entry, sorted and unique, as RHEL's
// find-requires.ksyms writes them at build time: kernel(sym) for the
// symbols kernel's vmlinux exports (kernel-core provides those), ksym(sym)
// for the rest, which other modules export.
func FindRequires(paths []string, kernel *ABI) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range paths {
		if !isModulePath(p) {
			continue
		}
		m, err := ReadKernelModuleFile(p)
		if err != nil {
			return nil, err
		}
		for _, v := range m.Versions {
			kind := "ksym"
			if s, ok := kernel.Lookup(v.Name); ok && s.Module == "vmlinux" {
				kind = "kernel"
			}
			seen[fmt.Sprintf("%s(%s) = %s", kind, v.Name, v.CRC)] = true
		}
	}
	return sortedKeys(seen), nil
}

// FindProvides returns `ksym(sym) = 0xCRC` for every symbol the kernel
// modules among paths export, sorted and unique: what a kmod offers the
// modules of other kmods.
func FindProvides(paths []string) ([]string, error) {
	seen := map[string]bool{}
	for _, p := range paths {
		if !isModulePath(p) {
			continue
		}
		crcs, err := ReadExportCRCs(p)
		if err != nil {
			return nil, err
		}
		for _, c := range crcs {
			seen[fmt.Sprintf("ksym(%s) = %s", c.Name, c.CRC)] = true
		}
	}
	return sortedKeys(seen), nil
}

func sortedKeys(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// ReadExportCRCs reads the CRCs of the symbols a kernel module file
// (compressed or not) exports: the values of its __crc_<sym> symbols, which
// modpost places in the __kcrctab sections (or, in older kernels, as
// absolute symbols).
func ReadExportCRCs(path string) ([]Need, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := ReadModuleData(f, path)
	if err != nil {
		return nil, err
	}
	return ParseExportCRCs(data, path)
}

// ParseExportCRCs is ReadExportCRCs on an uncompressed module's bytes.
func ParseExportCRCs(data []byte, name string) (out []Need, err error) {
	defer func() { // debug/elf can panic on hostile input
		if v := recover(); v != nil {
			out, err = nil, fmt.Errorf("%s: corrupt ELF file: %v", name, v)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not an ELF kernel module: %w", name, err)
	}
	syms, err := f.Symbols()
	if err != nil && err != elf.ErrNoSymbols {
		return nil, fmt.Errorf("%s: read symbol table: %w", name, err)
	}
	for _, s := range syms {
		sym, ok := strings.CutPrefix(s.Name, "__crc_")
		if !ok {
			continue
		}
		crc, err := crcValue(f, s)
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, s.Name, err)
		}
		out = append(out, Need{Name: sym, CRC: crc, HasCRC: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// crcValue reads the CRC a __crc_ symbol stands for.
func crcValue(f *elf.File, s elf.Symbol) (CRC, error) {
	if s.Section == elf.SHN_ABS {
		return CRC(uint32(s.Value)), nil
	}
	if int(s.Section) >= len(f.Sections) || s.Section == elf.SHN_UNDEF {
		return 0, fmt.Errorf("section index %d out of range", s.Section)
	}
	sec := f.Sections[s.Section]
	raw, err := sec.Data()
	if err != nil {
		return 0, err
	}
	if s.Value+4 > uint64(len(raw)) {
		return 0, fmt.Errorf("offset %d beyond section %s", s.Value, sec.Name)
	}
	return CRC(f.ByteOrder.Uint32(raw[s.Value:])), nil
}
