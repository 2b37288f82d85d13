package kabi_test

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

var refused struct {
	once sync.Once
	kos  map[string]string // module name → .ko
	err  error
}

// refusedModules builds testdata/refusedkmod against tree once per test
// run and makes kabi_nongpl's licence "Proprietary" (see kabi_nongpl.c).
func refusedModules(t testing.TB, tree *kernelfamily.Tree) map[string]string {
	t.Helper()
	refused.once.Do(func() {
		dir, err := os.MkdirTemp("", "kabi-refused-")
		if err != nil {
			refused.err = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		kos, err := kernelfamily.BuildModule(ctx, tree, filepath.Join("testdata", "refusedkmod"), dir)
		if err != nil {
			refused.err = err
			return
		}
		refused.kos = map[string]string{}
		for _, ko := range kos {
			refused.kos[kabi.ModuleName(ko)] = ko
		}
		refused.err = setLicence(refused.kos["kabi_nongpl"], "GPL and additional rights", "Proprietary")
	})
	if refused.err != nil {
		t.Fatal(refused.err)
	}
	return refused.kos
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
	kernel, err := kabi.ReadSymversFile(tree.Symvers())
	if err != nil {
		t.Fatal(err)
	}
	if err := kernel.ReadModulesDir(tree.ModulesDir()); err != nil {
		t.Fatal(err)
	}
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
		v := kabi.Check(kernel, kabi.KmodFromModules(c.mod+".ko", []*kabi.KernelModule{m}))
		if len(v.Missing)+len(v.Mismatched) != 0 || len(v.Refused) != 1 || v.Compatible {
			t.Fatalf("%s: want one refusal and no CRC break, got %+v", c.mod, v)
		}
		b := v.Refused[0]
		if b.Kind != c.kind || b.Name != c.sym || b.Object != c.mod || c.want == "" || !strings.Contains(b.Detail, c.want) {
			t.Errorf("%s: break %+v, want %s %s naming %q", c.mod, b, c.kind, c.sym, c.want)
		}
	}
}
