package main

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestRealKmodDeps compiles the three real kmods from C against a real
// kernel-devel with the rpmbuild builder, kabiforge's generator writing
// their kABI dependencies, and checks each package's Requires against
// modprobe --dump-modversions of the .ko it ships.
func TestRealKmodDeps(t *testing.T) {
	testutil.RequireTool(t, "modprobe")
	k := demo.RealKernel{Tree: kftest.Need(t, "6.1.0-47"), Release: "47"}
	kernelRPMs, _ := kftest.KernelRPMs(t, k)
	vmlinux := map[string]bool{}
	for _, f := range fieldsOf(t, k.Tree.Symvers()) {
		if len(f) >= 3 && f[2] == "vmlinux" {
			vmlinux[f[1]] = true
		}
	}
	provides, requires := map[string][]string{}, map[string][]string{}
	for _, name := range demo.RealKmodNames() {
		rpm := buildRealKmod(t, name, k.NVR(".el8"), filepath.Dir(kernelRPMs[0]))
		got := rpmDeps(t, "--requires", rpm)
		var want []string
		for _, line := range dumpModversions(t, rpm) {
			kind := "ksym"
			if vmlinux[line[1]] {
				kind = "kernel"
			}
			want = append(want, kind+"("+line[1]+") = "+line[0])
		}
		sort.Strings(want)
		if len(want) < 3 || strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("kmod-%s Requires:\n%s\nwant (from modprobe --dump-modversions):\n%s", name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		provides[name], requires[name] = rpmDeps(t, "--provides", rpm), got
	}
	// kfwatch needs what kfcount provides, with the same CRC.
	count := provides[demo.RealKmodCount]
	if len(count) != 1 || !strings.HasPrefix(count[0], "ksym(kfcount_add) = 0x") {
		t.Fatalf("kmod-kfcount provides %v, want only ksym(kfcount_add) = 0xCRC", count)
	}
	if !slices.Contains(requires[demo.RealKmodWatch], count[0]) {
		t.Errorf("kmod-kfwatch requires %v, want %s (what kmod-kfcount provides)", requires[demo.RealKmodWatch], count[0])
	}
	for _, name := range []string{demo.RealKmodWatch, demo.RealKmodMisc} {
		if len(provides[name]) != 0 {
			t.Errorf("kmod-%s exports nothing but provides %v", name, provides[name])
		}
	}
}

// buildRealKmod builds the real kmod name for kernelNVR with the rpmbuild
// builder, kernel-devel coming from kernelDir, and returns the binary RPM.
func buildRealKmod(t *testing.T, name, kernelNVR, kernelDir string) string {
	t.Helper()
	srpm, err := demo.RealKmodSRPM(t.TempDir(), name, kernelNVR, "1")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	res, err := kftest.Builder().Build(ctx, build.Request{SRPM: srpm, Arch: "x86_64", ResultDir: t.TempDir(),
		Repos:  []build.Repo{{Name: "kernel", URL: kernelDir}},
		Macros: map[string]string{"__kabiforge": kabiforgeBin}})
	if err != nil {
		t.Fatalf("build kmod-%s: %v", name, err)
	}
	if len(res.RPMs) != 1 {
		t.Fatalf("kmod-%s built %v, want one package", name, res.RPMs)
	}
	return res.RPMs[0]
}

// rpmDeps lists a package's kernel(...) and ksym(...) dependencies of one
// kind, as rpm reads them, sorted.
func rpmDeps(t *testing.T, kind, rpm string) []string {
	out, err := exec.Command("rpm", "-qp", kind, rpm).Output()
	if err != nil {
		t.Fatalf("rpm -qp %s %s: %v", kind, rpm, err)
	}
	var deps []string
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "kernel(") || strings.HasPrefix(l, "ksym(") {
			deps = append(deps, l)
		}
	}
	sort.Strings(deps)
	return deps
}

// dumpModversions unpacks the package's .ko and returns modprobe
// --dump-modversions' lines, split into CRC and symbol.
func dumpModversions(t *testing.T, rpm string) [][]string {
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", rpm)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", rpm, err, out)
	}
	kos, _ := filepath.Glob(filepath.Join(dir, "lib", "modules", "*", "extra", "*", "*.ko"))
	if len(kos) != 1 {
		t.Fatalf("%s ships %v, want one .ko", rpm, kos)
	}
	out, err := exec.Command("modprobe", "--dump-modversions", kos[0]).Output()
	if err != nil {
		t.Fatalf("modprobe --dump-modversions %s: %v", kos[0], err)
	}
	var rows [][]string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		rows = append(rows, strings.Fields(l))
	}
	return rows
}

func fieldsOf(t *testing.T, path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows [][]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		rows = append(rows, strings.Fields(sc.Text()))
	}
	return rows
}
