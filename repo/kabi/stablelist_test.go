package kabi

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// stablelistFrom writes a stablelist in the RHEL format holding the symbols
// of a real Module.kabi file (no real copy of the list was found; its
// symbols equal Module.kabi's).
func stablelistFrom(t testing.TB, kabiPath, section string) string {
	t.Helper()
	abi, err := ReadSymversFile(kabiPath)
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	b.WriteString("[" + section + "]\n")
	for _, s := range abi.Symbols() {
		b.WriteString("\t" + s.Name + "\n")
	}
	p := filepath.Join(t.TempDir(), "kabi_stablelist_x86_64")
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestReadStablelistOfRealSymbols(t *testing.T) {
	kabi := kabiLists(t, "c8")["4.18.0-477.10.1.el8_8"]
	l, err := ReadStablelist(stablelistFrom(t, kabi, "rhel8_x86_64_stablelist"))
	if err != nil {
		t.Fatal(err)
	}
	if l.Len() != 756 || !l.Contains("__kmalloc") || l.Contains("not_a_symbol") {
		t.Errorf("list has %d symbols, __kmalloc %v", l.Len(), l.Contains("__kmalloc"))
	}
	if len(l.Sections) != 1 || l.Sections[0] != "rhel8_x86_64_stablelist" {
		t.Errorf("sections = %q", l.Sections)
	}
	// A Module.kabi file is accepted as the list as well.
	l2, err := ReadStablelist(kabi)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(l2.Symbols(), ",") != strings.Join(l.Symbols(), ",") {
		t.Error("Module.kabi and stablelist of the same symbols differ")
	}
}

func TestParseStablelistAcceptsOldWhitelistsWithSeveralSections(t *testing.T) {
	in := "[rhel7_x86_64_whitelist]\n\tprintk\n\t__kmalloc\n\n[rhel7_x86_64_whitelist_extra]\n  kfree\n"
	l, err := ParseStablelist(strings.NewReader(in), "kabi_whitelist_x86_64")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(l.Symbols(), " "); got != "__kmalloc kfree printk" {
		t.Errorf("symbols = %s", got)
	}
}

func TestParseStablelistRejectsBadLines(t *testing.T) {
	cases := map[string]struct {
		in   string
		line int
		msg  string
	}{
		"symbol before header": {"\tprintk\n", 1, "before the first [section]"},
		"unindented symbol":    {"[s]\nprintk\n", 2, "indented by a TAB"},
		"two words":            {"[s]\n\tprintk kfree\n", 2, "one symbol per line"},
		"bad header":           {"[s]\n[bad\n", 2, "malformed section header"},
		"no header":            {"", 1, "no [section] header"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseStablelist(strings.NewReader(c.in), "list")
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != c.line || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("err = %v, want list:%d: ...%s...", err, c.line, c.msg)
			}
		})
	}
}

func TestABIStablelistMarksSymbols(t *testing.T) {
	abi, err := ParseSymvers(strings.NewReader("0x1\tprintk\tvmlinux\tEXPORT_SYMBOL\n0x2\tfoo\tvmlinux\tEXPORT_SYMBOL\n"), "k")
	if err != nil {
		t.Fatal(err)
	}
	l := NewStablelist("l")
	l.Add("printk")
	l.Add("gone")
	abi.SetStablelist(l)
	p, _ := abi.Lookup("printk")
	f, _ := abi.Lookup("foo")
	if !p.Stablelisted || f.Stablelisted || !abi.Stablelisted("gone") {
		t.Errorf("printk %v foo %v gone %v", p.Stablelisted, f.Stablelisted, abi.Stablelisted("gone"))
	}
}

func TestReadKabiModuleDirOfRealSamples(t *testing.T) {
	dir := testutil.SharedData(t, "kabi", "kabi-module-samples", "ctrliq-kernel-src-tree")
	d, err := ReadKabiModuleDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) != 2 {
		t.Fatalf("%d symbols, want 2", len(d))
	}
	k := d["__kmalloc"]
	if len(k) != 1 || k[0].From != 6 || k[0].To != -1 || k[0].Symbol.CRC != 0xeb233a45 || k[0].Symbol.Module != "vmlinux" {
		t.Errorf("__kmalloc = %+v", k)
	}
	// kmalloc_caches is on the list from minor 8: absent from minor 7's ABI.
	if got := sortedNames(d.ABI("9.7", 7)); strings.Join(got, ",") != "__kmalloc" {
		t.Errorf("minor 7: %v", got)
	}
	abi := d.ABI("9.8", 8)
	if got := sortedNames(abi); strings.Join(got, ",") != "__kmalloc,kmalloc_caches" {
		t.Errorf("minor 8: %v", got)
	}
	if !abi.Stablelisted("kmalloc_caches") {
		t.Error("kabi-module symbols are stablelisted")
	}
	if got := d.ABI("9.5", 5).Len(); got != 0 {
		t.Errorf("minor 5 has %d symbols", got)
	}
}

func TestParseKabiModuleRangesAndErrors(t *testing.T) {
	row := "0xeb233a45\t__kmalloc\tvmlinux\tEXPORT_SYMBOL\t\n"
	es, err := ParseKabiModule(strings.NewReader("#0-5\n0x1\t__kmalloc\tvmlinux\tEXPORT_SYMBOL\t\n#6-\n"+row+"\n"), "f", "__kmalloc")
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || !es[0].Covers(5) || es[0].Covers(6) || !es[1].Covers(99) || es[1].Symbol.CRC != 0xeb233a45 {
		t.Errorf("entries = %+v", es)
	}
	cases := map[string]struct {
		in   string
		line int
		msg  string
	}{
		"row without range": {row, 1, "without a preceding"},
		"range without row": {"#6-\n", 1, "without a symvers row"},
		"two ranges":        {"#1-\n#2-\n", 2, "follows the range"},
		"bad range":         {"#x-\n" + row, 1, "not a number"},
		"reversed range":    {"#5-2\n" + row, 1, "ends before"},
		"other symbol":      {"#6-\n0x1\tkfree\tvmlinux\tEXPORT_SYMBOL\n", 2, "named for __kmalloc"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseKabiModule(strings.NewReader(c.in), "f", "__kmalloc")
			var pe *ParseError
			if !errors.As(err, &pe) || pe.Line != c.line || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("err = %v, want f:%d: ...%s...", err, c.line, c.msg)
			}
		})
	}
}
