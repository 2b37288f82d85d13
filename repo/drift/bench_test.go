package drift_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/repo/drift"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// benchKmods are 500 kmods of 80 vmlinux symbols each, with the CRCs of
// the real 6.1.0-47 Module.symvers, as their kernel(sym) Requires say.
func benchKmods(b testing.TB, n1 *kabi.ABI) []drift.Kmod {
	var vmlinux []kabi.Symbol
	for _, s := range n1.Symbols() {
		if s.Module == "vmlinux" {
			vmlinux = append(vmlinux, s)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	kmods := make([]drift.Kmod, 500)
	for i := range kmods {
		k := &kabi.Kmod{Name: fmt.Sprintf("kmod-k%03d", i)}
		for _, j := range rng.Perm(len(vmlinux))[:80] {
			k.Needs = append(k.Needs, kabi.Need{Name: vmlinux[j].Name, CRC: vmlinux[j].CRC, HasCRC: true})
		}
		slices.SortFunc(k.Needs, func(a, b kabi.Need) int { return strings.Compare(a.Name, b.Name) })
		kmods[i] = drift.Kmod{Name: k.Name, Arch: "x86_64", BuiltFor: "6.1.0-47.el8", Needs: k}
	}
	return kmods
}

func readSymvers(b testing.TB, path string) *kabi.ABI {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	a, err := kabi.ParseSymvers(bufio.NewReader(f), path)
	if err != nil {
		b.Fatal(err)
	}
	return a
}

// BenchmarkDrift500 is one drift check of 500 published kmods against the
// real 6.1.0-57 kernel: read its Module.symvers (24,600 rows), check every
// kmod symbol by symbol, compare with the published 6.1.0-47 (target:
// under 2 s per op).
func BenchmarkDrift500(b *testing.B) {
	n1, n2 := kftest.Need(b, "6.1.0-47"), kftest.Need(b, "6.1.0-57")
	pub := readSymvers(b, n1.Symvers())
	kmods := benchKmods(b, pub)
	b.ResetTimer()
	for b.Loop() {
		ref := readSymvers(b, n2.Symvers())
		r := drift.Decide(drift.Input{Stream: "el8", KernelNVR: "6.1.0-57.el8", Arches: []string{"x86_64"},
			Kernels: []drift.Kernel{{Arch: "x86_64", ABI: ref}}, Kmods: kmods,
			Published: []drift.Published{{Arch: "x86_64", NVR: "6.1.0-47.el8", ABI: pub}}})
		if r.Broken == 0 || len(r.Arches[0].Kmods) != 500 {
			b.Fatalf("%d broken of %d", r.Broken, len(r.Arches[0].Kmods))
		}
	}
}

// BenchmarkDrift500Awk does what a user without kabiforge would: one awk
// over the reference kernel's Module.symvers and the 500 kmods' needs
// (symbol and CRC, one a line), counting the kmods with a symbol missing
// or changed.
func BenchmarkDrift500Awk(b *testing.B) {
	n1, n2 := kftest.Need(b, "6.1.0-47"), kftest.Need(b, "6.1.0-57")
	files := writeNeeds(b, benchKmods(b, readSymvers(b, n1.Symvers())))
	b.ResetTimer()
	for b.Loop() {
		if awkBroken(b, n2.Symvers(), files) == 0 {
			b.Fatal("awk: nothing broken")
		}
	}
}

// TestDriftAgreesWithAwk checks Decide's broken count on the real 6.1.0-57
// kernel against awk's over the same needs.
func TestDriftAgreesWithAwk(t *testing.T) {
	n1, n2 := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	kmods := benchKmods(t, readSymvers(t, n1.Symvers()))
	r := drift.Decide(drift.Input{Arches: []string{"x86_64"},
		Kernels: []drift.Kernel{{Arch: "x86_64", ABI: readSymvers(t, n2.Symvers())}}, Kmods: kmods})
	if want := awkBroken(t, n2.Symvers(), writeNeeds(t, kmods)); r.Broken != want || want == 0 {
		t.Errorf("Decide: %d broken, awk: %d", r.Broken, want)
	}
	t.Logf("%d of %d kmods broken", r.Broken, len(kmods))
}

// writeNeeds writes each kmod's needs as "symbol 0xCRC" lines.
func writeNeeds(t testing.TB, kmods []drift.Kmod) []string {
	dir := t.TempDir()
	var files []string
	for _, k := range kmods {
		var sb strings.Builder
		for _, n := range k.Needs.Needs {
			fmt.Fprintf(&sb, "%s %s\n", n.Name, n.CRC)
		}
		f := filepath.Join(dir, k.Name)
		if err := os.WriteFile(f, []byte(sb.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	return files
}

// awkBroken counts with awk the needs files naming a symbol symvers lacks
// or exports with another CRC.
func awkBroken(t testing.TB, symvers string, files []string) int {
	t.Helper()
	if _, err := exec.LookPath("awk"); err != nil {
		t.Fatalf("awk: %v", err)
	}
	prog := `FNR == NR { crc[$2] = $1; next }
!($1 in crc) || crc[$1] != $2 { bad[FILENAME] = 1 }
END { n = 0; for (f in bad) n++; print n }`
	out, err := exec.Command("awk", append([]string{prog, symvers}, files...)...).Output()
	if err != nil {
		t.Fatalf("awk: %v", err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("awk printed %q", out)
	}
	return n
}
