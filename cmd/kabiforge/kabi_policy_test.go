package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// TestKabiCheckPolicyAndModulesExitCodes runs `kabi check` on modules built
// against the real 6.1.0-57 kernel (repo/kabi/testdata/refusedkmod) with
// --modules and --policy: each rule kind and selector decides the exit code
// (0 fits, 1 a break the policy does not ignore, 2 bad input).
func TestKabiCheckPolicyAndModulesExitCodes(t *testing.T) {
	old, cur := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	kos := kftest.Modules(t, cur, filepath.Join("..", "..", "repo", "kabi", "testdata", "refusedkmod"))
	dir := t.TempDir()
	policy := func(name, yaml string) string {
		p := filepath.Join(dir, name+".yaml")
		writeKabiFile(t, p, yaml)
		return p
	}
	ignoreVermagic := policy("vermagic", "rules:\n  - kinds: [vermagic]\n    action: ignore\n")
	ignoreNS := policy("ns", "rules:\n  - namespace: DMA_BUF\n    kinds: [namespace]\n    action: ignore\n")
	holdNS := policy("hold", "rules:\n  - symbol: 'dma_buf_*'\n    action: hold-gate\n")
	ignoreCRC := policy("crc", "rules:\n  - module: vmlinux\n    kinds: [crc]\n    action: ignore\n")
	failAll := policy("default", "default: fail-kmod\nrules:\n  - kmod: 'kabi_v*'\n    action: ignore\n")
	bad := policy("bad", "rules:\n  - kinds: [vermagic]\n    action: block\n")
	for _, tc := range []struct {
		name string
		args []string
		code int
		want []string // in the output, runs of spaces as one
	}{
		{"control fits", []string{cur.Symvers(), kos["kabi_good.ko"]}, 0, []string{"0 of 1 kmods broken"}},
		{"vermagic unknown without --modules", []string{cur.Symvers(), kos["kabi_vermagic.ko"]}, 0, nil},
		{"vermagic with --modules", []string{"--modules", cur.ModulesDir(), cur.Symvers(), kos["kabi_vermagic.ko"], kos["kabi_good.ko"]}, 1,
			[]string{"1 of 2 kmods broken", "vermagic kabi_vermagic vermagic flags", `vermagic flags "SMP mod_unload modversions", kernel has "SMP preempt mod_unload modversions"`}},
		{"vermagic ignored", []string{"--modules", cur.ModulesDir(), "--policy", ignoreVermagic, cur.Symvers(), kos["kabi_vermagic.ko"]}, 0,
			[]string{"(ignored by policy)"}},
		{"namespace", []string{cur.Symvers(), kos["kabi_nons.ko"]}, 1, []string{"namespace kabi_nons: dma_buf_put exported", "exported in namespace DMA_BUF"}},
		{"namespace ignored by namespace", []string{"--policy", ignoreNS, cur.Symvers(), kos["kabi_nons.ko"]}, 0, []string{"(ignored by policy)"}},
		{"namespace held by symbol glob", []string{"--policy", holdNS, cur.Symvers(), kos["kabi_nons.ko"]}, 1, []string{"(holds the gate)"}},
		{"crc on the older kernel", []string{old.Symvers(), kos["kabi_good.ko"]}, 1, []string{"mismatched module_layout"}},
		{"crc ignored by module", []string{"--policy", ignoreCRC, old.Symvers(), kos["kabi_good.ko"]}, 0, []string{"(ignored by policy)"}},
		{"kmod glob, default", []string{"--policy", failAll, "--modules", cur.ModulesDir(), cur.Symvers(), kos["kabi_vermagic.ko"], kos["kabi_nons.ko"]}, 1,
			[]string{"1 of 2 kmods broken", "BROKEN kabi_nons.ko (fail-kmod)", "ok kabi_vermagic.ko"}},
		{"bad policy", []string{"--policy", bad, cur.Symvers(), kos["kabi_good.ko"]}, 2, []string{bad, "rules[0].action", `unknown action "block"`}},
		{"missing policy", []string{"--policy", filepath.Join(dir, "none.yaml"), cur.Symvers(), kos["kabi_good.ko"]}, 2, []string{"--policy", "none.yaml"}},
		{"missing modules folder", []string{"--modules", filepath.Join(dir, "nomodules"), cur.Symvers(), kos["kabi_good.ko"]}, 2, []string{"--modules", "nomodules"}},
		{"modules folder without modules", []string{"--modules", dir, cur.Symvers(), kos["kabi_good.ko"]}, 2, []string{"--modules", "no kernel modules"}},
	} {
		out, code := runKabi(t, append([]string{"check"}, tc.args...)...)
		if code != tc.code {
			t.Errorf("%s: exit %d, want %d:\n%s", tc.name, code, tc.code, out)
			continue
		}
		flat := strings.Join(strings.Fields(out), " ") // tabwriter's padding aside
		for _, w := range tc.want {
			if !strings.Contains(flat, w) {
				t.Errorf("%s: output lacks %q:\n%s", tc.name, w, out)
			}
		}
	}

	out, code := runKabi(t, "check", "--json", "--policy", holdNS, cur.Symvers(), kos["kabi_nons.ko"])
	var rep checkReport
	if err := json.Unmarshal([]byte(strings.SplitN(out, "error:", 2)[0]), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	v := rep.Kmods[0]
	if rep.Compatible || v.Action != kabi.ActionHoldGate || len(v.Refused) != 1 || v.Refused[0].Kind != kabi.KindNamespace ||
		v.Refused[0].Namespace != "DMA_BUF" || v.Refused[0].Action != kabi.ActionHoldGate {
		t.Errorf("JSON report %+v", rep)
	}
}
