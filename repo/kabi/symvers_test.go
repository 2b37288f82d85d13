package kabi

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// kabiLists returns the real Module.kabi_x86_64 files of a centos-git branch
// keyed by NVR.
func kabiLists(t testing.TB, branch string) map[string]string {
	t.Helper()
	dir := testutil.SharedData(t, "kabi", "centos-git", branch)
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := make(map[string]string)
	for _, e := range ents {
		out[e.Name()] = filepath.Join(dir, e.Name(), "Module.kabi_x86_64")
	}
	return out
}

func TestReadSymversFileReadsEveryRealList(t *testing.T) {
	for _, branch := range []string{"c7", "c8", "c9s-sig-hyperscale"} {
		for nvr, path := range kabiLists(t, branch) {
			abi, err := ReadSymversFile(path)
			if err != nil {
				t.Fatalf("%s: %v", nvr, err)
			}
			data, _ := os.ReadFile(path)
			if want := strings.Count(string(data), "\n"); abi.Len() != want {
				t.Errorf("%s: %d symbols, file has %d lines", nvr, abi.Len(), want)
			}
			if abi.Stablelist() == nil || abi.Stablelist().Len() != abi.Len() {
				t.Errorf("%s: a Module.kabi file must be its own stablelist", nvr)
			}
		}
	}
}

func TestParseSymversRowsOfEachKernelGeneration(t *testing.T) {
	in := "0x75d19f57\t__alloc_disk_node\tvmlinux\tEXPORT_SYMBOL\n" + // 4.18
		"0x63c4d61f\t__bitmap_weight\tvmlinux\tEXPORT_SYMBOL\t\n" + // 5.14, empty namespace
		"0x84b45156\tinsert_resource_expand_to_fit\tvmlinux\tEXPORT_SYMBOL_GPL\tCXL\n" +
		"0x11111111\tsym54\tUSB_STORAGE\tdrivers/usb/storage/usb-storage\tEXPORT_SYMBOL_GPL\n" + // 5.4-5.9 order
		"0xf432dd3d __init_waitqueue_head vmlinux EXPORT_SYMBOL\n" + // space-separated RHEL 7 row
		"0xabc\tfc_exch_init\tdrivers/scsi/libfc/libfc\tEXPORT_SYMBOL\n"
	abi, err := ParseSymvers(strings.NewReader(in), "t")
	if err != nil {
		t.Fatal(err)
	}
	want := []Symbol{
		{Name: "__alloc_disk_node", CRC: 0x75d19f57, Module: "vmlinux", Export: "EXPORT_SYMBOL"},
		{Name: "__bitmap_weight", CRC: 0x63c4d61f, Module: "vmlinux", Export: "EXPORT_SYMBOL"},
		{Name: "__init_waitqueue_head", CRC: 0xf432dd3d, Module: "vmlinux", Export: "EXPORT_SYMBOL"},
		{Name: "fc_exch_init", CRC: 0xabc, Module: "drivers/scsi/libfc/libfc", Export: "EXPORT_SYMBOL"},
		{Name: "insert_resource_expand_to_fit", CRC: 0x84b45156, Module: "vmlinux", Export: "EXPORT_SYMBOL_GPL", Namespace: "CXL"},
		{Name: "sym54", CRC: 0x11111111, Module: "drivers/usb/storage/usb-storage", Export: "EXPORT_SYMBOL_GPL", Namespace: "USB_STORAGE"},
	}
	got := abi.Symbols()
	if len(got) != len(want) {
		t.Fatalf("got %d symbols, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("symbol %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestParseSymversRejectsBadLinesWithFileAndLine(t *testing.T) {
	good := "0x75d19f57\tsym_a\tvmlinux\tEXPORT_SYMBOL\n"
	cases := map[string]struct{ in, msg string }{
		"three columns":   {"0x1\tsym\tvmlinux\n", "want 4 or 5"},
		"six columns":     {"0x1\tsym\tvmlinux\tEXPORT_SYMBOL\tNS\textra\n", "want 4 or 5"},
		"no 0x":           {"75d19f57\tsym\tvmlinux\tEXPORT_SYMBOL\n", "does not start with 0x"},
		"not hex":         {"0xzz\tsym\tvmlinux\tEXPORT_SYMBOL\n", "not hexadecimal"},
		"crc too long":    {"0x123456789\tsym\tvmlinux\tEXPORT_SYMBOL\n", "1 to 8 hex digits"},
		"bad export":      {"0x1\tsym\tvmlinux\tSYMBOL\n", "EXPORT_"},
		"empty module":    {"0x1\tsym\t\tEXPORT_SYMBOL\n", "empty module"},
		"duplicate":       {"0x1\tsym_a\tvmlinux\tEXPORT_SYMBOL\n", "listed again (first at line 1)"},
		"blank line":      {"\n", "blank line"},
		"crlf":            {"0x1\tsym\tvmlinux\tEXPORT_SYMBOL\r\n", "carriage return"},
		"space in symbol": {"0x1\tsy m\tvmlinux\tEXPORT_SYMBOL\n", "contains byte 0x20"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := ParseSymvers(strings.NewReader(good+c.in), "Module.symvers")
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if pe.File != "Module.symvers" || pe.Line != 2 || !strings.Contains(pe.Msg, c.msg) {
				t.Errorf("err = %q, want Module.symvers:2: ...%s...", err, c.msg)
			}
		})
	}
}

func TestReadSymversFileDecompressesSymversGz(t *testing.T) {
	src := kabiLists(t, "c8")["4.18.0-80.el8"]
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	gz := filepath.Join(t.TempDir(), "symvers.gz")
	writeGzip(t, gz, data)
	abi, err := ReadSymversFile(gz)
	if err != nil {
		t.Fatal(err)
	}
	if abi.Len() != 529 || abi.Stablelist() != nil {
		t.Errorf("symvers.gz: %d symbols, stablelist %v; want 529 and none", abi.Len(), abi.Stablelist())
	}
	s, ok := abi.Lookup("__kmalloc")
	if !ok || s.CRC != 0xd2b09ce5 || s.Stablelisted {
		t.Errorf("__kmalloc = %+v, %v", s, ok)
	}
}

func sortedNames(abi *ABI) []string {
	var out []string
	for _, s := range abi.Symbols() {
		out = append(out, s.Name)
	}
	sort.Strings(out)
	return out
}

// TestMergeCompletesProvidesWithSymversColumns: a kernel read from
// kernel-core's Provides (CRCs only) merged with kernel-devel's
// Module.symvers takes the export types and namespaces of the rows whose
// CRCs agree, and the symbols it lacks.
func TestMergeCompletesProvidesWithSymversColumns(t *testing.T) {
	provides := NewABI("kernel-core")
	for _, s := range []Symbol{{Name: "kstrdup", CRC: 1}, {Name: "dma_buf_put", CRC: 2}, {Name: "stale", CRC: 3}} {
		if err := provides.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	devel, err := ParseSymvers(strings.NewReader("0x1\tkstrdup\tvmlinux\tEXPORT_SYMBOL\n"+
		"0x2\tdma_buf_put\tvmlinux\tEXPORT_SYMBOL_GPL\tDMA_BUF\n0x4\tstale\tvmlinux\tEXPORT_SYMBOL_GPL\n"+
		"0x5\tonly_devel\tdrivers/x\tEXPORT_SYMBOL\n"), "Module.symvers")
	if err != nil {
		t.Fatal(err)
	}
	if err := provides.Merge(devel); err != nil {
		t.Fatal(err)
	}
	want := []Symbol{
		{Name: "dma_buf_put", CRC: 2, Module: "vmlinux", Export: "EXPORT_SYMBOL_GPL", Namespace: "DMA_BUF"},
		{Name: "kstrdup", CRC: 1, Module: "vmlinux", Export: "EXPORT_SYMBOL"},
		{Name: "only_devel", CRC: 5, Module: "drivers/x", Export: "EXPORT_SYMBOL"},
		{Name: "stale", CRC: 3}, // CRCs disagree: kernel-core's row stands alone
	}
	if got := provides.Symbols(); !slices.Equal(got, want) {
		t.Errorf("merged %+v, want %+v", got, want)
	}
}
