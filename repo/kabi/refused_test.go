package kabi_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// refusedModules returns testdata/refusedkmod built against tree (cached by
// kftest.Modules), copied into a test directory, keyed by module name, with
// kabi_nongpl's licence made "Proprietary" (see kabi_nongpl.c).
func refusedModules(t testing.TB, tree *kernelfamily.Tree) map[string]string {
	t.Helper()
	dir := t.TempDir()
	kos := map[string]string{}
	for name, built := range kftest.Modules(t, tree, filepath.Join("testdata", "refusedkmod")) {
		data, err := os.ReadFile(built)
		if err != nil {
			t.Fatal(err)
		}
		ko := filepath.Join(dir, name)
		if err := os.WriteFile(ko, data, 0o644); err != nil {
			t.Fatal(err)
		}
		kos[kabi.ModuleName(ko)] = ko
	}
	if err := setLicence(kos["kabi_nongpl"], "GPL and additional rights", "Proprietary"); err != nil {
		t.Fatalf("kabi_nongpl: %v", err)
	}
	return kos
}

// setLicence overwrites the license= string of a module's .modinfo in place,
// padding with NULs (the loader skips them).
func setLicence(ko, old, new string) error {
	data, err := os.ReadFile(ko)
	if err != nil {
		return err
	}
	o, n := []byte("license="+old+"\x00"), []byte("license="+new+"\x00")
	if bytes.Count(data, o) != 1 || len(n) > len(o) {
		return os.ErrInvalid
	}
	n = append(n, make([]byte, len(o)-len(n))...)
	return os.WriteFile(ko, bytes.Replace(data, o, n, 1), 0o644)
}

// shell runs a bash script with args and returns its trimmed output.
func shell(t testing.TB, script string, args ...string) string {
	t.Helper()
	out, err := exec.Command("bash", append([]string{"-c", "export LC_ALL=C; " + script, "sh"}, args...)...).Output()
	if err != nil {
		t.Fatalf("%s: %v", script, err)
	}
	return strings.TrimSpace(string(out))
}

// TestRealModulesRefusedForTheirReasons builds, against the real -57 cloud
// kernel's headers, a non-GPL module using a GPL-only export, a module using
// a namespaced export without importing it and a module with other vermagic
// flags, and checks each is reported with that reason alone. The expected
// export type, namespace and vermagic come from awk on Module.symvers and
// kmod's modinfo.
func TestRealModulesRefusedForTheirReasons(t *testing.T) {
	testutil.RequireTool(t, "modinfo")
	tree := kftest.Need(t, "6.1.0-57")
	kos := refusedModules(t, tree)
	kernel := realKernel(t, tree)
	firstMod := shell(t, `find "$1/kernel" -name '*.ko*' | sort | head -1`, tree.ModulesDir())
	if want := shell(t, `modinfo -F vermagic "$1" | head -1`, firstMod); strings.TrimSpace(kernel.Vermagic) != want {
		t.Errorf("kernel vermagic %q, modinfo says %q", kernel.Vermagic, want)
	}
	symvers := func(sym string, col int) string {
		return shell(t, `awk -F'\t' -v s="$2" -v c="$3" '$2 == s { print $c }' "$1"`, tree.Symvers(), sym, string(rune('0'+col)))
	}
	cases := []struct {
		mod  string
		kind kabi.Kind
		sym  string
		want string // what the break's detail must name
	}{
		{"kabi_nongpl", kabi.KindGPLOnly, "debugfs_create_dir", symvers("debugfs_create_dir", 4)},
		{"kabi_nons", kabi.KindNamespace, "dma_buf_put", "namespace " + symvers("dma_buf_put", 5)},
		{"kabi_vermagic", kabi.KindVermagic, "", shell(t, `modinfo -F vermagic "$1" | head -1 | cut -d' ' -f2- | sed 's/ *$//'`, kos["kabi_vermagic"])},
	}
	for _, c := range cases {
		m, err := kabi.ReadKernelModuleFile(kos[c.mod])
		if err != nil {
			t.Fatal(err)
		}
		if lic := shell(t, `modinfo -F license "$1"`, kos[c.mod]); m.Info.License != lic {
			t.Errorf("%s: licence %q, modinfo says %q", c.mod, m.Info.License, lic)
		}
		v := checkModule(t, kernel, kos[c.mod])
		if len(v.Missing)+len(v.Mismatched) != 0 || len(v.Refused) != 1 || v.Compatible {
			t.Fatalf("%s: want one refusal and no CRC break, got %+v", c.mod, v)
		}
		b := v.Refused[0]
		if b.Kind != c.kind || b.Name != c.sym || b.Object != c.mod || c.want == "" || !strings.Contains(b.Detail, c.want) {
			t.Errorf("%s: break %+v, want %s %s naming %q", c.mod, b, c.kind, c.sym, c.want)
		}
	}
	good := checkModule(t, kernel, kos["kabi_good"])
	if lic := shell(t, `modinfo -F license "$1"`, kos["kabi_good"]); lic != "Proprietary" || !good.Compatible || len(good.Breaks()) != 0 {
		t.Errorf("kabi_good (licence %q): %+v, want compatible", lic, good)
	}
}

// realKernel reads tree's ABI as kabi check --modules does: its
// Module.symvers and its modules folder (module list, vermagic).
func realKernel(t testing.TB, tree *kernelfamily.Tree) *kabi.ABI {
	t.Helper()
	kernel, err := kabi.ReadSymversFile(tree.Symvers())
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.ReadModulesDir(tree.ModulesDir()); err != nil {
		t.Fatal(err)
	}
	return kernel
}

// checkModule checks one .ko on its own against kernel.
func checkModule(t testing.TB, kernel *kabi.ABI, ko string) kabi.Verdict {
	t.Helper()
	m, err := kabi.ReadKernelModuleFile(ko)
	if err != nil {
		t.Fatal(err)
	}
	return kabi.Check(kernel, kabi.KmodFromModules(filepath.Base(ko), []*kabi.KernelModule{m}))
}

// TestKernelVariantChangesReachTheModulesUsingThem makes a variant of the
// real -57 Module.symvers with awk in which kstrdup became GPL-only and
// kmemdup moved into a namespace, CRCs kept (real -47 → -57 has no such
// change). Diff reports exactly the changes join finds between the two
// files, and the control module, which loads on -57 and uses both symbols,
// is refused on the variant for both, with the variant's export type and
// namespace.
func TestKernelVariantChangesReachTheModulesUsingThem(t *testing.T) {
	testutil.RequireTool(t, "join")
	tree := kftest.Need(t, "6.1.0-57")
	kos := refusedModules(t, tree)
	variant := filepath.Join(t.TempDir(), "Module.symvers")
	out := shell(t, `awk -F'\t' 'BEGIN { OFS = "\t" }
		$2 == "kstrdup" { $4 = "EXPORT_SYMBOL_GPL" }
		$2 == "kmemdup" { $5 = "KABIFORGE_TEST" }
		{ print }' "$1"`, tree.Symvers())
	if err := os.WriteFile(variant, []byte(out+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	real, changed := realKernel(t, tree), readSymvers(t, variant)
	if err := changed.ReadModulesDir(tree.ModulesDir()); err != nil {
		t.Fatal(err)
	}
	d := kabi.Diff(real, changed)
	want := strings.Split(shell(t, joinChanges, tree.Symvers(), variant), "\n")
	if got := strings.Join(exportChangeNames(d), " "); got != strings.Join(want[:len(want)-1], " ") || got != "kmemdup kstrdup" ||
		want[len(want)-1] != "crc=0" || len(d.CRCChanged)+len(d.Removed)+len(d.Added) != 0 {
		t.Errorf("Diff: export changes %q, %d CRC changes; join says %q", got, len(d.CRCChanged), want)
	}
	if v := checkModule(t, real, kos["kabi_good"]); !v.Compatible {
		t.Fatalf("kabi_good on -57: %+v", v)
	}
	v := checkModule(t, changed, kos["kabi_good"])
	gplOnly := shell(t, `awk -F'\t' '$2 == "kstrdup" { print $4 }' "$1"`, variant)
	ns := shell(t, `awk -F'\t' '$2 == "kmemdup" { print $5 }' "$1"`, variant)
	if got := breakList(v); v.Compatible || len(v.Missing)+len(v.Mismatched) != 0 ||
		strings.Join(got, "|") != "kabi_good gpl-only kstrdup|kabi_good namespace kmemdup" ||
		!strings.Contains(v.Refused[0].Detail, gplOnly) || v.Refused[1].Namespace != ns {
		t.Errorf("kabi_good on the variant: %q %+v, want gpl-only kstrdup (%s) and namespace kmemdup (%s)", got, v.Refused, gplOnly, ns)
	}
}
