package boot

import (
	"context"
	"path/filepath"
	"testing"
)

// BenchmarkBootGate3Kmods is the boot gate for one kernel of the real family
// with three kmods (the test module and two in-tree drivers standing as
// kmods, one with five levels of dependencies): order, initramfs, boot under
// TCG, results. The target is at most 20 s per kernel on 2 cores.
func BenchmarkBootGate3Kmods(b *testing.B) {
	fam := realFamily(b)
	cfg := testConfig(b)
	kos := []string{fam.newKo}
	for _, g := range []string{"kernel/drivers/comedi/drivers/ni_660x.ko*", "kernel/net/vmw_vsock/vsock_loopback.ko*"} {
		m, _ := filepath.Glob(filepath.Join(fam.new.ModulesDir(), g))
		if len(m) != 1 {
			b.Fatalf("%s: %v", g, m)
		}
		kos = append(kos, m[0])
	}
	for b.Loop() {
		mods, err := Order(kos, fam.new.ModulesDir())
		if err != nil {
			b.Fatal(err)
		}
		res, err := Run(context.Background(), cfg, Request{Kernel: fam.new.Vmlinuz(), Modules: mods})
		if err != nil {
			b.Fatal(err)
		}
		for _, m := range res.Modules {
			if !m.Loaded {
				b.Fatalf("%s refused: %s", m.Name, m.Reason())
			}
		}
		if !res.Booted || len(res.Modules) != len(mods) {
			b.Fatalf("booted %v, %d of %d modules", res.Booted, len(res.Modules), len(mods))
		}
	}
}

// BenchmarkBootBare is the same kernel booted with no module to load: the
// floor the gate's own work (initramfs, loads, results) adds to.
func BenchmarkBootBare(b *testing.B) {
	fam := realFamily(b)
	cfg := testConfig(b)
	for b.Loop() {
		res, err := Run(context.Background(), cfg, Request{Kernel: fam.new.Vmlinuz()})
		if err != nil || !res.Booted {
			b.Fatalf("%v %+v", err, res)
		}
	}
}
