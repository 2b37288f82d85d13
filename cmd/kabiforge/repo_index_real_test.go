package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// run is one measured run of a command: wall-clock and CPU time, peak RSS.
type run struct {
	wall, cpu time.Duration
	peakKiB   int64
}

// measure runs argv and returns its cost; the benchmark fails when it fails.
func measure(b *testing.B, argv ...string) run {
	b.Helper()
	start := time.Now()
	cmd := exec.Command(argv[0], argv[1:]...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("%v: %v\n%s", argv, err, out)
	}
	r := run{wall: time.Since(start), cpu: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.peakKiB = ru.Maxrss
	}
	return r
}

// BenchmarkRepoIndexRealKernels indexes the real kernels' packages (kernel,
// -core, -modules and -devel of 6.1.0-47, its z-stream rebuild 47.1 and
// 6.1.0-57: 12 RPMs, tens of thousands of files each) with `kabiforge repo
// index` and with `createrepo_c --no-database`, alternately in the same
// run, and reports both tools' wall and CPU time per index, their ratios
// (above 1: kabiforge is faster) and both tools' peak RSS.
func BenchmarkRepoIndexRealKernels(b *testing.B) {
	testutil.RequireTool(b, "createrepo_c")
	n1, n2 := kftest.Need(b, "6.1.0-47"), kftest.Need(b, "6.1.0-57")
	ours, theirs := b.TempDir(), b.TempDir()
	var size int64
	for _, k := range []demo.RealKernel{{Tree: n1, Release: "47"}, {Tree: n1, Release: "47.1"}, {Tree: n2, Release: "57"}} {
		rpms, _ := kftest.KernelRPMs(b, k)
		for _, p := range rpms {
			for _, dir := range []string{ours, theirs} {
				if err := os.Link(p, filepath.Join(dir, filepath.Base(p))); err != nil {
					b.Fatal(err)
				}
			}
			if fi, err := os.Stat(p); err == nil {
				size += fi.Size()
			}
		}
	}
	b.Logf("indexing 12 RPMs, %d MiB", size>>20)
	var o, c run
	for b.Loop() {
		os.RemoveAll(filepath.Join(ours, "repodata"))
		os.Remove(filepath.Join(ours, ".repodata.cache"))
		os.RemoveAll(filepath.Join(theirs, "repodata"))
		ro := measure(b, kabiforgeBin, "repo", "index", ours)
		rc := measure(b, "createrepo_c", "--no-database", "--quiet", theirs)
		o.wall, o.cpu, o.peakKiB = o.wall+ro.wall, o.cpu+ro.cpu, max(o.peakKiB, ro.peakKiB)
		c.wall, c.cpu, c.peakKiB = c.wall+rc.wall, c.cpu+rc.cpu, max(c.peakKiB, rc.peakKiB)
	}
	n := float64(b.N)
	b.ReportMetric(o.wall.Seconds()*1000/n, "kabiforge-ms/op")
	b.ReportMetric(c.wall.Seconds()*1000/n, "createrepo_c-ms/op")
	b.ReportMetric(c.wall.Seconds()/o.wall.Seconds(), "speedup")
	b.ReportMetric(c.cpu.Seconds()/o.cpu.Seconds(), "cpu-speedup")
	b.ReportMetric(float64(o.peakKiB)/1024, "kabiforge-peak-MiB")
	b.ReportMetric(float64(c.peakKiB)/1024, "createrepo_c-peak-MiB")
}
