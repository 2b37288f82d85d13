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
		if err := abi.Add(Symbol{Name: names[i], CRC: CRC(crc), Module: "vmlinux", Export: "EXPORT_SYMBOL"}); err != nil {
			panic(err)
		}
		if i%3 == 0 {
			l.Add(names[i])
		}
	}
	abi.SetStablelist(l)
	return abi, names
}

// BenchmarkCheck checks 1,000 kmods of 200 symbols each against a
// 30,000-symbol kernel (target: under 0.5 s per op).
func BenchmarkCheck(b *testing.B) {
	kernel, names := syntheticKernel(30000, false)
	rng := rand.New(rand.NewPCG(3, 4))
	kmods := make([]Kmod, 1000)
	for i := range kmods {
		needs := make([]Need, 200)
		for j := range needs {
			s, _ := kernel.Lookup(names[rng.IntN(len(names))])
			needs[j] = Need{Name: s.Name, CRC: s.CRC, HasCRC: true}
			if j == 0 && i%7 == 0 {
				needs[j].CRC++ // a few broken kmods
			}
		}
		kmods[i] = Kmod{Name: fmt.Sprintf("kmod-%d", i), Needs: needs}
	}
	b.ResetTimer()
	for b.Loop() {
		vs := CheckAll(kernel, kmods, nil)
		if vs[0].Compatible {
			b.Fatal("kmod-0 should be broken")
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
