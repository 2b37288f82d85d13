package kabi

import (
	"bytes"
	"debug/elf"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

var helloModule struct {
	once sync.Once
	dir  string
	ko   string
	err  string
}

// kernelHeaders returns the host's kernel headers directory, failing under
// CI and skipping elsewhere when none is installed.
func kernelHeaders(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/src/linux-headers-*-amd64")
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "Module.symvers")); err == nil {
			return d
		}
	}
	testutil.Unavailable(t, "no kernel headers in /usr/src/linux-headers-*-amd64 (run scripts/ensure-tools.sh)")
	return ""
}

// buildHelloModule compiles testdata/hellokmod with the host's kernel
// headers, once per test run, and returns the path of the .ko.
func buildHelloModule(t testing.TB) string {
	t.Helper()
	testutil.RequireTool(t, "make")
	testutil.RequireTool(t, "gcc")
	headers := kernelHeaders(t)
	h := &helloModule
	h.once.Do(func() {
		dir, err := os.MkdirTemp("", "kabi-hellokmod-")
		if err != nil {
			h.err = err.Error()
			return
		}
		h.dir = dir
		for _, f := range []string{"hello.c", "Kbuild"} {
			data, err := os.ReadFile(filepath.Join("testdata", "hellokmod", f))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, f), data, 0o644)
			}
			if err != nil {
				h.err = err.Error()
				return
			}
		}
		out, err := exec.Command("make", "-C", headers, "M="+dir, "modules").CombinedOutput()
		if err != nil {
			h.err = "make modules: " + err.Error() + "\n" + string(out)
			return
		}
		h.ko = filepath.Join(dir, "kabiforge_hello.ko")
	})
	if h.err != "" {
		t.Fatal(h.err)
	}
	return h.ko
}

func TestMain(m *testing.M) {
	code := m.Run()
	if helloModule.dir != "" {
		os.RemoveAll(helloModule.dir)
	}
	os.Exit(code)
}

// dumpModversions runs modprobe --dump-modversions on ko.
func dumpModversions(t *testing.T, ko string) map[string]string {
	t.Helper()
	testutil.RequireTool(t, "modprobe")
	out, err := exec.Command("modprobe", "--dump-modversions", ko).Output()
	if err != nil {
		t.Fatalf("modprobe --dump-modversions %s: %v", ko, err)
	}
	m := make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		m[f[1]] = f[0]
	}
	return m
}

func TestReadKernelModuleMatchesModprobe(t *testing.T) {
	ko := buildHelloModule(t)
	want := dumpModversions(t, ko)
	m, err := ReadKernelModuleFile(ko)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Versions) != len(want) || len(want) < 5 {
		t.Fatalf("read %d __versions entries, modprobe lists %d", len(m.Versions), len(want))
	}
	for _, v := range m.Versions {
		if got := v.CRC.String(); want[v.Name] != got {
			t.Errorf("%s: CRC %s, modprobe says %s", v.Name, got, want[v.Name])
		}
	}
	if _, ok := want["misc_register"]; !ok {
		t.Error("the module must use misc_register")
	}
	eq(t, "exports", m.Exports, []string{"kabiforge_hello_answer"})
	for _, u := range []string{"misc_register", "kfree", "kmalloc_caches"} {
		if !contains(m.Undefined, u) {
			t.Errorf("undefined symbols %v lack %s", m.Undefined, u)
		}
	}
	// Everything the module needs, the headers' real Module.symvers provides
	// with the same CRC.
	kernel, err := ReadSymversFile(filepath.Join(kernelHeaders(t), "Module.symvers"))
	if err != nil {
		t.Fatal(err)
	}
	if kernel.Len() < 10000 {
		t.Errorf("headers' Module.symvers has only %d symbols", kernel.Len())
	}
	if v := Check(kernel, KmodFromModules("hello", []*KernelModule{m})); !v.Compatible {
		t.Errorf("the module does not fit the kernel it was built for: %+v", v)
	}
}

func TestReadKernelModuleDecompressesXzAndZstd(t *testing.T) {
	ko := buildHelloModule(t)
	raw, err := os.ReadFile(ko)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := ParseKernelModule(raw, ko)
	if err != nil {
		t.Fatal(err)
	}
	var xzb, zstb bytes.Buffer
	xw, _ := xz.NewWriter(&xzb)
	xw.Write(raw)
	xw.Close()
	zw, _ := zstd.NewWriter(&zstb)
	zw.Write(raw)
	zw.Close()
	for name, data := range map[string][]byte{"x.ko.xz": xzb.Bytes(), "x.ko.zst": zstb.Bytes()} {
		m, err := ReadKernelModule(bytes.NewReader(data), name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if len(m.Versions) != len(plain.Versions) || m.Versions[0] != plain.Versions[0] {
			t.Errorf("%s: %d versions, want %d", name, len(m.Versions), len(plain.Versions))
		}
	}
}

func TestParseVersionsLayout(t *testing.T) {
	entry := func(crc uint64, name string) []byte {
		b := make([]byte, 64)
		binary.LittleEndian.PutUint64(b, crc)
		copy(b[8:], name)
		return b
	}
	data := append(entry(0xffffffff_844c8938, "misc_register"), entry(0x1, "kfree")...)
	got, err := ParseVersions(data, elf.ELFCLASS64, binary.LittleEndian)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0] != (Need{Name: "misc_register", CRC: 0x844c8938, HasCRC: true}) || got[1].Name != "kfree" {
		t.Errorf("got %+v", got)
	}
	if _, err := ParseVersions(data[:100], elf.ELFCLASS64, binary.LittleEndian); err == nil || !strings.Contains(err.Error(), "multiple of 64") {
		t.Errorf("truncated section: %v", err)
	}
	bad := entry(1, strings.Repeat("x", 56))
	if _, err := ParseVersions(bad, elf.ELFCLASS64, binary.LittleEndian); err == nil || !strings.Contains(err.Error(), "NUL-terminated") {
		t.Errorf("unterminated name: %v", err)
	}
	if _, err := ParseKernelModule([]byte("not elf"), "x.ko"); err == nil || !strings.Contains(err.Error(), "x.ko") {
		t.Errorf("non-ELF input: %v", err)
	}
}

func TestKmodFromModulesDropsSymbolsTheKmodExportsItself(t *testing.T) {
	a := &KernelModule{Versions: []Need{{Name: "printk", CRC: 1, HasCRC: true}}, Undefined: []string{"b_helper", "printk"}}
	b := &KernelModule{Exports: []string{"b_helper"}, Undefined: []string{"kfree"}}
	k := KmodFromModules("kmod-ab", []*KernelModule{a, b})
	if len(k.Needs) != 2 || k.Needs[0].Name != "kfree" || k.Needs[0].HasCRC || k.Needs[1] != (Need{Name: "printk", CRC: 1, HasCRC: true}) {
		t.Errorf("needs = %+v", k.Needs)
	}
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}
