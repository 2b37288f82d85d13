package kabi

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// payloadSeeds builds, with rpmbuild, packages whose payloads kabi reads: a
// synthetic kernel-core (symvers.gz), kernel-devel (Module.symvers) and
// kernel-abi-stablelists, and a kmod shipping the compiled hello module,
// each with an uncompressed payload so that mutations reach the cpio
// archive itself, and the kmod once more as rpmbuild compresses it.
func payloadSeeds(f *testing.F) [][]byte {
	syms := []Symbol{
		{Name: "printk", CRC: 0x1234abcd, Module: "vmlinux", Export: "EXPORT_SYMBOL"},
		{Name: "__kmalloc", CRC: 0x0badcafe, Module: "vmlinux", Export: "EXPORT_SYMBOL_GPL"},
	}
	src := f.TempDir()
	writeFile(f, filepath.Join(src, "symvers"), symversText(syms))
	writeFile(f, filepath.Join(src, "kabi_stablelist_x86_64"), "[rhel9_x86_64_stablelist]\n\tprintk\n")
	copyFile(f, buildHelloModule(f), filepath.Join(src, "kabiforge_hello.ko"))
	kernel := renderSpec(f, "kernel.spec.tmpl", map[string]any{"Version": "6.1.0", "Release": "1", "Symbols": syms})
	kmod := renderSpec(f, "kmods.spec.tmpl", map[string]any{
		"Kmods": []kmodCase{{Name: "hello", Module: "kabiforge_hello.ko"}}, "KVer": "6.1.0-1.x86_64"})
	uncompressed := []string{"--define", "_sourcedir " + src, "--define", "_binary_payload w.ufdio"}
	paths := testutil.RPMBuild(f, kernel, uncompressed...)
	paths = append(paths, testutil.RPMBuild(f, kmod, uncompressed...)...)
	paths = append(paths, testutil.RPMBuild(f, kmod, "--define", "_sourcedir "+src)...)
	var out [][]byte
	for _, p := range paths {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzPackagePayload feeds mutated kernel and kmod packages to everything
// kabi reads from a package's payload (the cpio walk, then the symbol
// tables, stablelists and kernel modules in it): no panic, no hang, and an
// error names the package.
func FuzzPackagePayload(f *testing.F) {
	for _, b := range payloadSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		path := filepath.Join(t.TempDir(), "fuzz.rpm")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p, err := rpm.Open(path)
		if err != nil {
			return
		}
		named := func(what string, err error) {
			if err != nil && !strings.Contains(err.Error(), path) && !strings.Contains(err.Error(), p.NEVRA.String()) {
				t.Fatalf("%s: error %q names neither %s nor %s", what, err, path, p.NEVRA)
			}
		}
		_, _, err = KmodFromRPM(p)
		named("KmodFromRPM", err)
		_, _, err = PayloadSymvers(p)
		named("PayloadSymvers", err)
		_, _, err = StablelistFromRPM(p)
		named("StablelistFromRPM", err)
		named("readPackagedModules", readPackagedModules(p, NewABI(p.NEVRA.String())))
	})
}
