package demo

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// rebuild rebuilds srpm with testutil.RPMRebuild and returns the binary
// RPMs by package name.
func rebuild(t *testing.T, srpm string, defines ...string) map[string]string {
	t.Helper()
	var args []string
	for _, d := range defines {
		args = append(args, "--define", d)
	}
	byName := map[string]string{}
	for _, p := range testutil.RPMRebuild(t, srpm, args...) {
		byName[query(t, "%{NAME}", p)[0]] = p
	}
	return byName
}

func query(t *testing.T, format, rpm string, flags ...string) []string {
	t.Helper()
	args := append([]string{"-qp", "--qf", format}, flags...)
	out, err := exec.Command("rpm", append(args, rpm)...).Output()
	if err != nil {
		t.Fatalf("rpm -qp %s: %v", rpm, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

func deps(t *testing.T, kind, rpm string) []string {
	t.Helper()
	out, err := exec.Command("rpm", "-qp", "--"+kind, rpm).Output()
	if err != nil {
		t.Fatalf("rpm -qp --%s %s: %v", kind, rpm, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// unpack extracts rpm's payload into a new directory.
func unpack(t *testing.T, rpm string) string {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", rpm)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", rpm, err, out)
	}
	return dir
}

func TestBaseKernelUsesTheRealStablelist(t *testing.T) {
	k := BaseKernel()
	if got := len(k.Symbols); got != 529+len(extraSymbols) {
		t.Errorf("symbols = %d, want 529 real + %d synthetic", got, len(extraSymbols))
	}
	s, ok := k.Symbol("__alloc_skb")
	if !ok || s.CRC != 0x3c5dfeb0 || !s.Stablelisted {
		t.Errorf("__alloc_skb = %+v, want the real RHEL 8.0 CRC 0x3c5dfeb0, stablelisted", s)
	}
	if f, _ := k.Symbol(FragileSymbol); f.Stablelisted {
		t.Errorf("%s is stablelisted, want not", FragileSymbol)
	}
}

func TestNextKernelChangesOnlyTheNamedSymbol(t *testing.T) {
	a := BaseKernel()
	b := NextKernel(a, "4.18.0-80.1.2.el8_0")
	var changed []string
	for i := range a.Symbols {
		if a.Symbols[i].CRC != b.Symbols[i].CRC {
			changed = append(changed, a.Symbols[i].Name)
		}
	}
	if !slices.Equal(changed, []string{FragileSymbol}) || b.NVR != "4.18.0-80.1.2.el8_0" || a.NVR != "4.18.0-80.el8" {
		t.Errorf("changed %v, NVRs %s→%s", changed, a.NVR, b.NVR)
	}
}

func TestBaseKernelShipsTheRealRowsUnchanged(t *testing.T) {
	real := Kernel{Symbols: BaseKernel().Symbols[:529]}
	if got := real.symvers(); !bytes.Equal(got, rhel80Kabi) {
		t.Errorf("the stablelisted rows differ from Module.kabi_x86_64-4.18.0-80.el8:\n%s", got)
	}
}

func TestKernelSymversReadsBackWithKabi(t *testing.T) {
	k := NextKernel(BaseKernel(), "4.18.0-80.1.2.el8_0")
	abi, err := kabi.ParseSymvers(bytes.NewReader(k.symvers()), "Module.symvers")
	if err != nil {
		t.Fatal(err)
	}
	if abi.Len() != len(k.Symbols) {
		t.Errorf("kabi read %d symbols, want %d", abi.Len(), len(k.Symbols))
	}
	for _, s := range k.Symbols {
		got, ok := abi.Lookup(s.Name)
		if !ok || uint32(got.CRC) != s.CRC || got.Module != s.Module || got.Export != s.Export {
			t.Errorf("%s read back as %+v, want %+v", s.Name, got, s)
		}
	}
}

func TestBadNVRIsRejected(t *testing.T) {
	if _, err := KernelSRPM(t.TempDir(), Kernel{NVR: "4.18.0", Symbols: BaseKernel().Symbols}); err == nil {
		t.Error("KernelSRPM accepted NVR without release")
	}
}

func TestKernelAndKmodPackagesCarryRealKabiDeps(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	testutil.RequireTool(t, "cpio")
	dir := t.TempDir()
	k := BaseKernel()
	srpm, err := KernelSRPM(dir, k)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(srpm) != "kernel-4.18.0-80.el8.src.rpm" {
		t.Errorf("SRPM = %s", srpm)
	}
	kpkgs := rebuild(t, srpm)
	for _, n := range []string{"kernel", "kernel-core", "kernel-devel", "kernel-abi-stablelists"} {
		if kpkgs[n] == "" {
			t.Fatalf("no %s built; got %v", n, kpkgs)
		}
	}
	provides := deps(t, "provides", kpkgs["kernel-core"])
	for _, want := range []string{"kernel(__alloc_skb) = 0x3c5dfeb0", "kernel = 4.18.0-80.el8",
		fmt.Sprintf("kernel(%s) = 0x%08x", FragileSymbol, must(k.Symbol(FragileSymbol)).CRC)} {
		if !slices.Contains(provides, want) {
			t.Errorf("kernel-core lacks Provides %q", want)
		}
	}
	devel := unpack(t, kpkgs["kernel-devel"])
	if _, err := os.Stat(filepath.Join(devel, "usr/src/kernels/4.18.0-80.el8.x86_64/Module.symvers")); err != nil {
		t.Error(err)
	}
	stable := unpack(t, kpkgs["kernel-abi-stablelists"])
	list, err := os.ReadFile(filepath.Join(stable, "lib/modules/kabi-rhel80/kabi_stablelist_x86_64"))
	if err != nil || !strings.Contains(string(list), "\t__alloc_skb\n") || strings.Contains(string(list), FragileSymbol) {
		t.Errorf("stablelist wrong (err %v)", err)
	}

	for _, m := range Kmods(k.NVR) {
		srpm, err := KmodSRPM(dir, m)
		if err != nil {
			t.Fatal(err)
		}
		pkgs := rebuild(t, srpm, KernelDevelRootMacro+" "+devel)
		rpm := pkgs["kmod-"+m.Name]
		if rpm == "" {
			t.Fatalf("kmod-%s not built; got %v", m.Name, pkgs)
		}
		req := deps(t, "requires", rpm)
		for _, s := range m.Symbols {
			want := fmt.Sprintf("kernel(%s) = 0x%08x", s, must(k.Symbol(s)).CRC)
			if !slices.Contains(req, want) {
				t.Errorf("kmod-%s lacks Requires %q; has %v", m.Name, want, req)
			}
		}
	}
}

func TestKmodBuildFailsWithoutKernelDevel(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	srpm, err := KmodSRPM(t.TempDir(), Kmods("4.18.0-80.el8")[0])
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpmbuild", "--rebuild", "--nodeps", "--define", "_topdir "+t.TempDir(),
		"--define", KernelDevelRootMacro+" "+t.TempDir(), srpm).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "kernel-devel = 4.18.0-80.el8 is needed") {
		t.Errorf("err = %v, output:\n%s", err, out)
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("missing")
	}
	return v
}
