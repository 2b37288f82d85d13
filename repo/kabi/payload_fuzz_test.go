package kabi

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
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
	kernel := renderSpec(f, "kernel.spec.tmpl", map[string]any{"Version": "6.1.0", "Release": "1", "Symbols": syms})
	kmod := renderSpec(f, "kmods.spec.tmpl", map[string]any{
		"Kmods": []kmodCase{{Name: "hello", Module: "kabiforge_hello.ko"}}, "KVer": "6.1.0-1.x86_64"})
	// The packages are built once per content of their inputs (the specs,
	// the module's source and the kernel headers it is built against) and
	// kept in the user cache: each fuzzing worker and every test run needs
	// them, and building the module is slow.
	h := sha256.New()
	inputs := []string{kernel, kmod, symversText(syms), kernelHeaders(f)}
	for _, name := range []string{"hello.c", "Kbuild"} {
		b, err := os.ReadFile(filepath.Join("testdata", "hellokmod", name))
		if err != nil {
			f.Fatal(err)
		}
		inputs = append(inputs, string(b))
	}
	for _, in := range inputs {
		fmt.Fprintf(h, "%d:%s", len(in), in)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		f.Fatal(err)
	}
	dir := filepath.Join(cache, "kabiforge", "fuzz-payload-seeds", hex.EncodeToString(h.Sum(nil))[:16])
	paths, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
	if len(paths) != 5 {
		src := f.TempDir()
		writeFile(f, filepath.Join(src, "symvers"), symversText(syms))
		writeFile(f, filepath.Join(src, "kabi_stablelist_x86_64"), "[rhel9_x86_64_stablelist]\n\tprintk\n")
		copyFile(f, buildHelloModule(f), filepath.Join(src, "kabiforge_hello.ko"))
		uncompressed := []string{"--define", "_sourcedir " + src, "--define", "_binary_payload w.ufdio"}
		built := testutil.RPMBuild(f, kernel, uncompressed...)
		for i, p := range append(testutil.RPMBuild(f, kmod, uncompressed...), testutil.RPMBuild(f, kmod, "--define", "_sourcedir "+src)...) {
			built = append(built, filepath.Join(filepath.Dir(p), fmt.Sprint(i, "-", filepath.Base(p))))
			copyFile(f, p, built[len(built)-1])
		}
		tmp := dir + ".tmp" + fmt.Sprint(os.Getpid())
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			f.Fatal(err)
		}
		paths = nil
		for _, p := range built {
			copyFile(f, p, filepath.Join(tmp, filepath.Base(p)))
			paths = append(paths, filepath.Join(dir, filepath.Base(p)))
		}
		os.RemoveAll(dir)
		if err := os.Rename(tmp, dir); err != nil {
			f.Fatal(err)
		}
	}
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
