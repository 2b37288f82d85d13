package kabi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// versionEntrySize is the size of one __versions entry: a CRC in an
// unsigned long, then the NUL-padded symbol name filling 64 bytes.
const versionEntrySize = 64

// KernelModule is what a compiled kernel module (.ko) says about its symbols.
type KernelModule struct {
	// Name is the file the module was read from.
	Name string
	// Versions are the __versions entries: each symbol the module uses and
	// the CRC it was built against.
	Versions []Need
	// Undefined are the module's undefined symbols, sorted.
	Undefined []string
	// Exports are the symbols the module exports itself, sorted.
	Exports []string
	// Info is the module's .modinfo: licence, vermagic, namespaces, depends.
	Info ModInfo
}

// Needs returns every kernel symbol the module uses: its __versions entries,
// and undefined symbols without an entry (their CRC unknown), by name.
func (m *KernelModule) Needs() []Need {
	seen := make(map[string]bool, len(m.Versions))
	out := make([]Need, 0, len(m.Versions)+len(m.Undefined))
	for _, v := range m.Versions {
		if !seen[v.Name] {
			seen[v.Name] = true
			out = append(out, v)
		}
	}
	for _, u := range m.Undefined {
		if !seen[u] {
			seen[u] = true
			out = append(out, Need{Name: u})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// ReadKernelModuleFile reads a .ko file, which may be compressed with xz,
// zstd or gzip (.ko.xz, .ko.zst, .ko.gz).
func ReadKernelModuleFile(path string) (*KernelModule, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ReadKernelModule(f, path)
}

// maxModule bounds the size of one decompressed kernel module.
const maxModule = 512 << 20

// ReadKernelModule reads a kernel module, compressed or not, from r. name
// is used in errors.
func ReadKernelModule(r io.Reader, name string) (*KernelModule, error) {
	data, err := ReadModuleData(r, name)
	if err != nil {
		return nil, err
	}
	return ParseKernelModule(data, name)
}

// ReadModuleData returns the ELF bytes of a kernel module read from r,
// decompressed when it is compressed with xz, zstd or gzip. name is used in
// errors.
func ReadModuleData(r io.Reader, name string) ([]byte, error) {
	dr, err := decompress(r, name)
	if err != nil {
		return nil, err
	}
	defer dr.Close()
	data, err := io.ReadAll(io.LimitReader(dr, maxModule+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxModule {
		return nil, fmt.Errorf("%s: kernel module larger than %d bytes", name, maxModule)
	}
	return data, nil
}

// ParseKernelModule reads the __versions section and symbol table of an
// uncompressed ELF kernel module.
func ParseKernelModule(data []byte, name string) (m *KernelModule, err error) {
	defer func() { // debug/elf can panic on hostile input
		if v := recover(); v != nil {
			m, err = nil, fmt.Errorf("%s: corrupt ELF file: %v", name, v)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%s: not an ELF kernel module: %w", name, err)
	}
	if f.Type != elf.ET_REL {
		return nil, fmt.Errorf("%s: ELF type %v, a kernel module is ET_REL", name, f.Type)
	}
	m = &KernelModule{Name: name}
	if sec := f.Section(".modinfo"); sec != nil && sec.Type != elf.SHT_NOBITS {
		raw, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("%s: read .modinfo: %w", name, err)
		}
		if m.Info, err = ParseModinfo(raw); err != nil {
			return nil, fmt.Errorf("%s: .modinfo: %w", name, err)
		}
	}
	if m.Info.Name == "" {
		m.Info.Name = ModuleName(name)
	}
	if sec := f.Section("__versions"); sec != nil && sec.Type != elf.SHT_NOBITS {
		raw, err := sec.Data()
		if err != nil {
			return nil, fmt.Errorf("%s: read __versions: %w", name, err)
		}
		if m.Versions, err = ParseVersions(raw, f.Class, f.ByteOrder); err != nil {
			return nil, fmt.Errorf("%s: __versions: %w", name, err)
		}
	}
	syms, err := f.Symbols()
	if err != nil && err != elf.ErrNoSymbols {
		return nil, fmt.Errorf("%s: read symbol table: %w", name, err)
	}
	for _, s := range syms {
		switch {
		case s.Name == "":
		case s.Section == elf.SHN_UNDEF:
			m.Undefined = append(m.Undefined, s.Name)
		case strings.HasPrefix(s.Name, "__ksymtab_"):
			m.Exports = append(m.Exports, strings.TrimPrefix(s.Name, "__ksymtab_"))
		}
	}
	sort.Strings(m.Undefined)
	sort.Strings(m.Exports)
	return m, nil
}

// ParseVersions decodes the content of a __versions section: 64-byte
// entries of a CRC (an unsigned long of the ELF class, of which the low 32
// bits are meaningful) and a NUL-terminated name.
func ParseVersions(data []byte, class elf.Class, order binary.ByteOrder) ([]Need, error) {
	if len(data)%versionEntrySize != 0 {
		return nil, fmt.Errorf("size %d is not a multiple of %d", len(data), versionEntrySize)
	}
	crcSize := 8
	if class == elf.ELFCLASS32 {
		crcSize = 4
	}
	out := make([]Need, 0, len(data)/versionEntrySize)
	for off := 0; off < len(data); off += versionEntrySize {
		e := data[off : off+versionEntrySize]
		var crc uint32
		if crcSize == 8 {
			crc = uint32(order.Uint64(e))
		} else {
			crc = order.Uint32(e)
		}
		raw := e[crcSize:]
		end := bytes.IndexByte(raw, 0)
		if end < 0 {
			return nil, fmt.Errorf("entry %d: name is not NUL-terminated", off/versionEntrySize)
		}
		name := string(raw[:end])
		if err := checkName("symbol", name); err != nil {
			return nil, fmt.Errorf("entry %d: %v", off/versionEntrySize, err)
		}
		out = append(out, Need{Name: name, CRC: CRC(crc), HasCRC: true})
	}
	return out, nil
}

// KmodFromModules combines kernel modules shipped together (one kmod
// package) into the symbols the kmod needs from the kernel: everything the
// modules use, except what one of them exports to another.
func KmodFromModules(name string, mods []*KernelModule) Kmod {
	own := make(map[string]bool)
	for _, m := range mods {
		for _, e := range m.Exports {
			own[e] = true
		}
	}
	seen := make(map[string]int)
	var needs []Need
	for _, m := range mods {
		for _, n := range m.Needs() {
			if own[n.Name] {
				continue
			}
			if i, ok := seen[n.Name]; ok {
				if !needs[i].HasCRC && n.HasCRC {
					needs[i] = n
				}
				continue
			}
			seen[n.Name] = len(needs)
			needs = append(needs, n)
		}
	}
	sort.Slice(needs, func(i, j int) bool { return needs[i].Name < needs[j].Name })
	return Kmod{Name: name, Needs: needs, Modules: moduleInfos(mods, own)}
}

// moduleInfos returns each module's ModInfo with the symbols it uses from
// outside the kmod (those not in own).
func moduleInfos(mods []*KernelModule, own map[string]bool) []ModInfo {
	out := make([]ModInfo, len(mods))
	for i, m := range mods {
		info := m.Info
		info.Uses = nil
		for _, n := range m.Needs() {
			if !own[n.Name] {
				info.Uses = append(info.Uses, n.Name)
			}
		}
		out[i] = info
	}
	return out
}
