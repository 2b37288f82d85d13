package kabi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// addRealKabiSeeds seeds f with every real Module.kabi_x86_64 file, and
// with the first lines of each.
func addRealKabiSeeds(f *testing.F) {
	for _, branch := range []string{"c7", "c8", "c9s-sig-hyperscale"} {
		for _, p := range kabiLists(f, branch) {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
			if i := bytes.IndexByte(data, '\n'); i > 0 {
				f.Add(data[:i+1])
			}
		}
	}
}

// checkParseError requires err, if any, to be a ParseError naming the input.
func checkParseError(t *testing.T, err error, name string) {
	var pe *ParseError
	if err != nil && (!errors.As(err, &pe) || pe.File != name || pe.Line < 1) {
		t.Fatalf("error %q does not name %s and a line", err, name)
	}
}

func FuzzParseSymvers(f *testing.F) {
	addRealKabiSeeds(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		abi, err := ParseSymvers(bytes.NewReader(data), "in")
		checkParseError(t, err, "in")
		if err != nil {
			return
		}
		// Every symbol read is found again under its name, with a CRC that
		// the row spells.
		for _, s := range abi.Symbols() {
			got, ok := abi.Lookup(s.Name)
			if !ok || got != s || s.Module == "" || !strings.HasPrefix(s.Export, "EXPORT_") {
				t.Fatalf("symbol %+v looked up as %+v, %v", s, got, ok)
			}
		}
		if d := Diff(abi, abi); !d.Empty() {
			t.Fatalf("an ABI differs from itself: %+v", d)
		}
	})
}

func FuzzParseStablelist(f *testing.F) {
	for _, p := range kabiLists(f, "c8") {
		abi, err := ReadSymversFile(p)
		if err != nil {
			f.Fatal(err)
		}
		var b strings.Builder
		b.WriteString("[rhel8_x86_64_stablelist]\n")
		for _, s := range abi.Symbols() {
			b.WriteString("\t" + s.Name + "\n")
		}
		f.Add([]byte(b.String()))
	}
	f.Add([]byte("[rhel7_x86_64_whitelist]\n\tprintk\n\n[b]\n  kfree\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseStablelist(bytes.NewReader(data), "in")
		checkParseError(t, err, "in")
		if err != nil {
			return
		}
		if len(l.Sections) == 0 {
			t.Fatal("a list without sections was accepted")
		}
		for _, s := range l.Symbols() {
			if !l.Contains(s) || checkName("symbol", s) != nil {
				t.Fatalf("bad symbol %q", s)
			}
		}
	})
}

func FuzzParseKabiModule(f *testing.F) {
	dir := testutil.SharedData(f, "kabi", "kabi-module-samples", "ctrliq-kernel-src-tree")
	ents, err := os.ReadDir(dir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range ents {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, e.Name())
	}
	f.Add([]byte("#0-5\n0x1\tx\tvmlinux\tEXPORT_SYMBOL\n#6-\n0x2\tx\tvmlinux\tEXPORT_SYMBOL\t\n"), "x")
	f.Fuzz(func(t *testing.T, data []byte, sym string) {
		es, err := ParseKabiModule(bytes.NewReader(data), "in", sym)
		checkParseError(t, err, "in")
		for _, e := range es {
			if (sym != "" && e.Symbol.Name != sym) || !e.Symbol.Stablelisted || (e.To >= 0 && e.To < e.From) {
				t.Fatalf("bad entry %+v", e)
			}
		}
	})
}

func FuzzParseKernelModule(f *testing.F) {
	ko := buildHelloModule(f)
	data, err := os.ReadFile(ko)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := ParseKernelModule(data, "in.ko")
		if err != nil {
			if !strings.Contains(err.Error(), "in.ko") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		for _, n := range KmodFromModules("k", []*KernelModule{m}).Needs {
			if n.Name == "" {
				t.Fatal("empty symbol name")
			}
		}
	})
}

func FuzzParseVersions(f *testing.F) {
	m, err := ReadKernelModuleFile(buildHelloModule(f))
	if err != nil {
		f.Fatal(err)
	}
	var seed []byte
	for _, v := range m.Versions {
		e := make([]byte, versionEntrySize)
		binary.LittleEndian.PutUint64(e, uint64(v.CRC))
		copy(e[8:], v.Name)
		seed = append(seed, e...)
	}
	f.Add(seed, true)
	f.Add(seed[:versionEntrySize], false)
	f.Fuzz(func(t *testing.T, data []byte, is64 bool) {
		class := elf.ELFCLASS32
		if is64 {
			class = elf.ELFCLASS64
		}
		vs, err := ParseVersions(data, class, binary.LittleEndian)
		if err == nil && len(vs) != len(data)/versionEntrySize {
			t.Fatalf("%d entries from %d bytes", len(vs), len(data))
		}
	})
}

func FuzzParseSymbolDep(f *testing.F) {
	for _, p := range kabiLists(f, "c8") {
		abi, err := ReadSymversFile(p)
		if err != nil {
			f.Fatal(err)
		}
		for _, s := range abi.Symbols()[:20] {
			f.Add("kernel("+s.Name+")", uint32(rpm.EQ), s.CRC.String())
		}
	}
	f.Add("ksym(misc_register)", uint32(rpm.EQ), "844c8938")
	f.Add("kernel(x)", uint32(rpm.GT|rpm.EQ), "0x1")
	f.Fuzz(func(t *testing.T, name string, flags uint32, version string) {
		d := rpm.Dep{Name: name, Flags: rpm.Flags(flags), Version: version}
		n, ok, err := ParseSymbolDep(d)
		if ok && (err != nil || !n.HasCRC || !strings.Contains(name, "("+n.Name+")")) {
			t.Fatalf("%q parsed as %+v, %v", d.String(), n, err)
		}
		if err != nil && !strings.Contains(err.Error(), fmt.Sprintf("%q", d.String())) {
			t.Fatalf("error %q does not name the dependency", err)
		}
	})
}
