package kabi

import (
	"fmt"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// syntheticKernel returns an ABI of n symbols with pseudo-random CRCs and
// its symbol names; every tenth CRC is changed when bump is true.
func syntheticKernel(n int, bump bool) (*ABI, []string) {
	abi := NewABI(fmt.Sprintf("synthetic-%d", n))
	names := make([]string, n)
	rng := rand.New(rand.NewPCG(1, 2))
	l := NewStablelist("synthetic")
	for i := range n {
		names[i] = fmt.Sprintf("ksym_%06d", i)
		crc := rng.Uint32()
		if bump && i%10 == 0 {
			crc++
		}
		sym := Symbol{Name: names[i], CRC: CRC(crc), Module: "vmlinux", Export: "EXPORT_SYMBOL"}
		if i%2 == 0 {
			sym.Export = "EXPORT_SYMBOL_GPL"
		}
		if i%50 == 0 {
			sym.Namespace = "NS_A"
		} else if i%45 == 0 {
			sym.Namespace = "NS_B"
		}
		if err := abi.Add(sym); err != nil {
			panic(err)
		}
		if i%3 == 0 {
			l.Add(names[i])
		}
	}
	abi.SetStablelist(l)
	return abi, names
}

// BenchmarkCheck checks 1,000 kmods of 200 symbols each (two modules each,
// with .modinfo: licence, namespaces, vermagic, depends) against a
// 25,000-symbol kernel with export types, namespaces, a module list and a
// stablelist, under a policy with one rule of each kind (target: under 0.5 s
// per op).
func BenchmarkCheck(b *testing.B) {
	kernel, names := syntheticKernel(25000, false)
	kernel.Vermagic = "6.1.0-57-cloud-amd64 SMP preempt mod_unload modversions "
	for i := range 1000 {
		kernel.AddModule(fmt.Sprintf("kernel/drivers/m%d.ko", i))
	}
	policy := &Policy{Rules: []Rule{{Kinds: []Kind{KindNamespace}, Symbol: "ksym_0000*", Action: ActionIgnore},
		{Kinds: []Kind{KindGPLOnly}, Kmod: "kmod-1*", Action: ActionHoldGate}, {Kinds: []Kind{KindCRC, KindRemoved}, Module: "drivers/*", Action: ActionIgnore},
		{Kinds: []Kind{KindVermagic, KindDepends}, Namespace: "X", Action: ActionFailKmod}}}
	rng := rand.New(rand.NewPCG(3, 4))
	kmods := make([]Kmod, 1000)
	for i := range kmods {
		needs := make([]Need, 200)
		uses := make([]string, 200)
		for j := range needs {
			s, _ := kernel.Lookup(names[rng.IntN(len(names))])
			needs[j] = Need{Name: s.Name, CRC: s.CRC, HasCRC: true}
			uses[j] = s.Name
			if j == 0 && i%7 == 0 {
				needs[j].CRC++ // a few broken kmods
			}
		}
		info := ModInfo{License: "GPL", Vermagic: kernel.Vermagic, ImportNS: []string{"NS_A"}, Depends: []string{"m1", "m2"}}
		a, c := info, info
		a.Name, a.Uses = fmt.Sprintf("k%d_a", i), uses[:100]
		c.Name, c.Uses = fmt.Sprintf("k%d_b", i), uses[100:]
		if i%10 == 0 {
			c.License = "Proprietary" // a few use GPL-only exports they may not
		}
		kmods[i] = Kmod{Name: fmt.Sprintf("kmod-%d", i), Needs: needs, Modules: []ModInfo{a, c}}
	}
	b.ResetTimer()
	for b.Loop() {
		vs := CheckAll(kernel, kmods, policy)
		if vs[0].Compatible || len(vs[0].Greylist) == 0 {
			b.Fatal("kmod-0 should be broken and use greylisted symbols")
		}
	}
}

// BenchmarkDiff diffs two 30,000-symbol kernels that differ in a tenth of
// their CRCs (target: under 50 ms per op).
func BenchmarkDiff(b *testing.B) {
	old, _ := syntheticKernel(30000, false)
	new, _ := syntheticKernel(30000, true)
	b.ResetTimer()
	for b.Loop() {
		if d := Diff(old, new); len(d.CRCChanged) != 3000 {
			b.Fatalf("%d changed", len(d.CRCChanged))
		}
	}
}

// writeSyntheticSymvers writes two 30,000-row Module.symvers files that
// differ in a tenth of their CRCs.
func writeSyntheticSymvers(b *testing.B) (string, string) {
	dir := b.TempDir()
	var paths [2]string
	for i, bump := range []bool{false, true} {
		abi, _ := syntheticKernel(30000, bump)
		paths[i] = filepath.Join(dir, fmt.Sprintf("Module.symvers.%d", i))
		writeFile(b, paths[i], symversText(abi.Symbols()))
	}
	return paths[0], paths[1]
}

// BenchmarkDiffFiles reads two 30,000-symbol Module.symvers files and diffs
// them; BenchmarkDiffFilesSortJoin does the same with sort and join, as one
// would by hand.
func BenchmarkDiffFiles(b *testing.B) {
	a, c := writeSyntheticSymvers(b)
	b.ResetTimer()
	for b.Loop() {
		old, err := ReadSymversFile(a)
		if err != nil {
			b.Fatal(err)
		}
		new, err := ReadSymversFile(c)
		if err != nil {
			b.Fatal(err)
		}
		if d := Diff(old, new); len(d.CRCChanged) != 3000 {
			b.Fatalf("%d changed", len(d.CRCChanged))
		}
	}
}

func BenchmarkDiffFilesSortJoin(b *testing.B) {
	testutil.RequireTool(b, "join")
	a, c := writeSyntheticSymvers(b)
	script := `export LC_ALL=C; join -t "$(printf '\t')" -j 2 -a 1 -a 2 -e - -o 0,1.1,2.1 <(sort -t "$(printf '\t')" -k2,2 "$1") <(sort -t "$(printf '\t')" -k2,2 "$2") | awk -F'\t' '$2 != $3' | wc -l`
	b.ResetTimer()
	for b.Loop() {
		out, err := exec.Command("bash", "-c", script, "diff", a, c).Output()
		if err != nil || strings.TrimSpace(string(out)) != "3000" {
			b.Fatalf("%v: %q", err, out)
		}
	}
}

// BenchmarkReadKernelModule reads a real module's __versions;
// BenchmarkModprobeDumpModversions asks modprobe for the same.
func BenchmarkReadKernelModule(b *testing.B) {
	ko := buildHelloModule(b)
	for b.Loop() {
		if _, err := ReadKernelModuleFile(ko); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkModprobeDumpModversions(b *testing.B) {
	ko := buildHelloModule(b)
	testutil.RequireTool(b, "modprobe")
	for b.Loop() {
		if err := exec.Command("modprobe", "--dump-modversions", ko).Run(); err != nil {
			b.Fatal(err)
		}
	}
}
