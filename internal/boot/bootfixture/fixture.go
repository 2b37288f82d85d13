// Package bootfixture makes the packages the boot gate's tests boot: the
// test module built for an ABI of the real kernel family, a kernel-core RPM
// holding that ABI's vmlinuz, and kmod RPMs carrying a module under
// chosen kernel(sym) = CRC Requires (a wrong build, as packaging mistakes
// make, claims the CRCs of another kernel).
package bootfixture

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// Hello builds internal/boot/testdata/hello for tree and returns the .ko.
func Hello(t testing.TB, tree *kernelfamily.Tree) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "..", "testdata", "hello")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	kos, err := kernelfamily.BuildModule(ctx, tree, src, filepath.Join(t.TempDir(), "hello"))
	if err != nil || len(kos) != 1 {
		t.Fatalf("build hello for %s: %v %v", tree.ABI, kos, err)
	}
	return kos[0]
}

// Requires returns the kernel(sym) = 0xCRC a module needs, read by
// modprobe --dump-modversions.
func Requires(t testing.TB, ko string) []string {
	t.Helper()
	modprobe := testutil.RequireTool(t, "modprobe")
	out, err := exec.Command(modprobe, "--dump-modversions", ko).Output()
	if err != nil {
		t.Fatalf("modprobe --dump-modversions %s: %v", ko, err)
	}
	var req []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		crc, sym, _ := strings.Cut(l, "\t")
		var v uint64
		if _, err := fmt.Sscanf(crc, "0x%x", &v); err != nil {
			t.Fatalf("CRC %q: %v", crc, err)
		}
		req = append(req, fmt.Sprintf("kernel(%s) = 0x%08x", sym, v))
	}
	return req
}

// KernelCoreRPM packages tree's vmlinuz as RHEL's kernel-core does
// (/lib/modules/<release>/vmlinuz), providing kernel(sym) = CRC for the
// symbols named in requires with the CRCs of tree's own Module.symvers.
func KernelCoreRPM(t testing.TB, tree *kernelfamily.Tree, requires []string) string {
	t.Helper()
	want := map[string]bool{}
	for _, r := range requires {
		want[strings.TrimSuffix(strings.TrimPrefix(strings.Fields(r)[0], "kernel("), ")")] = true
	}
	f, err := os.Open(tree.Symvers())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var provides []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) >= 3 && fs[2] == "vmlinux" && want[fs[1]] {
			provides = append(provides, fmt.Sprintf("Provides: kernel(%s) = %s", fs[1], fs[0]))
		}
	}
	if len(provides) != len(want) {
		t.Fatalf("Module.symvers has %d of the %d symbols", len(provides), len(want))
	}
	return one(t, fmt.Sprintf(`Name: kernel-core
Version: 6.1.0
Release: %s
Summary: the real %s kernel image
License: GPL-2.0
%s
%%description
test
%%install
mkdir -p %%{buildroot}/lib/modules/%s
cp %s %%{buildroot}/lib/modules/%s/vmlinuz
%%files
/lib/modules/%s
`, strings.TrimPrefix(tree.ABI, "6.1.0-"), tree.ABI, strings.Join(provides, "\n"), tree.Release, tree.Vmlinuz(), tree.Release, tree.Release))
}

// KmodRPM packages ko, xz-compressed, as kmod-hello-<release> for the kernel
// release, under the given Requires.
func KmodRPM(t testing.TB, release, pkgRelease, ko string, requires []string) string {
	t.Helper()
	var req []string
	for _, r := range requires {
		req = append(req, "Requires: "+r)
	}
	return one(t, fmt.Sprintf(`Name: kmod-hello
Version: 1.0
Release: %s
Summary: hello
License: GPL-2.0
%s
%%description
test
%%install
mkdir -p %%{buildroot}/lib/modules/%s/extra/hello
cp %s %%{buildroot}/lib/modules/%s/extra/hello/
xz %%{buildroot}/lib/modules/%s/extra/hello/hello.ko
%%files
/lib/modules/%s/extra
`, pkgRelease, strings.Join(req, "\n"), release, ko, release, release, release))
}

func one(t testing.TB, spec string) string {
	t.Helper()
	rpms := testutil.RPMBuild(t, spec, "--define", "__os_install_post %{nil}")
	if len(rpms) != 1 {
		t.Fatalf("rpmbuild made %v", rpms)
	}
	return rpms[0]
}
