package repodata

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// benchPackages is how many RPMs the benchmarks index.
const benchPackages = 520

// manySpec is one spec whose build makes n binary subpackages, each with a
// program, a config file, documentation, dependencies and a changelog, so
// that one rpmbuild run makes every benchmark package.
func manySpec(n int) string {
	var b strings.Builder
	b.WriteString(`Name: bench
Version: 1.0
Release: 1%{?dist}
Summary: Benchmark packages
License: MIT
BuildArch: x86_64
%description
Benchmark packages.
%install
`)
	for i := range n {
		fmt.Fprintf(&b, "mkdir -p %%{buildroot}/usr/share/doc/b%[1]d %%{buildroot}/usr/bin %%{buildroot}/etc\n"+
			"head -c 6000 /dev/urandom > %%{buildroot}/usr/bin/b%[1]d\n"+
			"echo conf%[1]d > %%{buildroot}/etc/b%[1]d.conf\n"+
			"seq 1 %[1]d > %%{buildroot}/usr/share/doc/b%[1]d/README\n", i)
	}
	b.WriteString("%files\n/etc/b0.conf\n")
	for i := range n {
		fmt.Fprintf(&b, `%%package -n b%[1]d
Summary: Benchmark package %[1]d
Version: 1.%[1]d
Requires: bash >= 4
Requires(pre): coreutils
Provides: bench-feature-%[1]d = 1.%[1]d
Obsoletes: oldbench%[1]d < 1
%%description -n b%[1]d
Benchmark package number %[1]d.
%%files -n b%[1]d
/usr/bin/b%[1]d
%%config(noreplace) /etc/b%[1]d.conf
%%doc /usr/share/doc/b%[1]d
`, i)
	}
	b.WriteString("%changelog\n* Mon Jan 01 2024 Bench <bench@example.com> - 1.0-1\n- first\n")
	return b.String()
}

// benchRepo builds benchPackages+1 RPMs with rpmbuild and returns a
// directory holding all but one, and the spare one.
func benchRepo(b *testing.B) (dir, spare string) {
	start := time.Now()
	all := b.TempDir()
	rpmbuild(b, all, manySpec(benchPackages+1), "_binary_payload w1.gzdio")
	rpms, _ := filepath.Glob(filepath.Join(all, "b*.rpm"))
	if len(rpms) < benchPackages+1 {
		b.Fatalf("rpmbuild made %d packages, want %d", len(rpms), benchPackages+1)
	}
	spare = rpms[len(rpms)-1]
	dir = b.TempDir()
	for _, r := range rpms[:len(rpms)-1] {
		if err := os.Rename(r, filepath.Join(dir, filepath.Base(r))); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("built %d RPMs in %s", len(rpms), time.Since(start).Round(time.Millisecond))
	return dir, spare
}

// cloneDir hard-links the RPMs of src into a new directory.
func cloneDir(b *testing.B, src string) string {
	dst := b.TempDir()
	rpms, _ := filepath.Glob(filepath.Join(src, "*.rpm"))
	for _, r := range rpms {
		if err := os.Link(r, filepath.Join(dst, filepath.Base(r))); err != nil {
			b.Fatal(err)
		}
	}
	return dst
}

// cost is the wall-clock and CPU (user+system) time of a run.
type cost struct{ wall, cpu time.Duration }

func (c *cost) add(d cost) { c.wall += d.wall; c.cpu += d.cpu }

func timeCreaterepo(b *testing.B, dir string, extra ...string) cost {
	start := time.Now()
	args := append([]string{"--no-database", "--quiet"}, extra...)
	cmd := exec.Command("createrepo_c", append(args, dir)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	return cost{time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

// buildKabiforge builds the kabiforge command into a temporary directory.
func buildKabiforge(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "kabiforge")
	if err := testutil.BuildKabiforge(bin); err != nil {
		b.Fatal(err)
	}
	return bin
}

// timeKabiforge runs `kabiforge repo index` on dir, as a user would.
func timeKabiforge(b *testing.B, bin, dir string, extra ...string) cost {
	start := time.Now()
	cmd := exec.Command(bin, append([]string{"repo", "index", dir}, extra...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("kabiforge repo index: %v\n%s", err, out)
	}
	return cost{time.Since(start), cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}
}

// BenchmarkIndex compares `kabiforge repo index` with createrepo_c on the
// same 520 RPMs: a full index against `createrepo_c --no-database`, and adding
// one RPM to an indexed repository (--update) against `createrepo_c --update`. Each sub-benchmark
// reports both tools' times per operation and createrepo_c's time divided by
// ours (above 1: we are faster).
func BenchmarkIndex(b *testing.B) {
	testutil.RequireTool(b, "createrepo_c")
	dir, spare := benchRepo(b)
	bin := buildKabiforge(b)
	b.Run("full", func(b *testing.B) {
		ours, theirs := cloneDir(b, dir), cloneDir(b, dir)
		var tOurs, tTheirs cost
		for b.Loop() {
			os.RemoveAll(filepath.Join(ours, "repodata"))
			os.RemoveAll(filepath.Join(theirs, "repodata"))
			tOurs.add(timeKabiforge(b, bin, ours))
			tTheirs.add(timeCreaterepo(b, theirs))
		}
		report(b, tOurs, tTheirs)
	})
	b.Run("update-one", func(b *testing.B) {
		ours, theirs := cloneDir(b, dir), cloneDir(b, dir)
		timeKabiforge(b, bin, ours)
		timeCreaterepo(b, theirs)
		var tOurs, tTheirs cost
		i := 0
		for b.Loop() {
			i++
			name := fmt.Sprintf("added-%d.x86_64.rpm", i)
			copyFile(b, spare, filepath.Join(ours, name))
			copyFile(b, spare, filepath.Join(theirs, name))
			tOurs.add(timeKabiforge(b, bin, ours, "--update"))
			tTheirs.add(timeCreaterepo(b, theirs, "--update"))
		}
		report(b, tOurs, tTheirs)
	})
}

// report gives both tools' wall-clock times per operation, and
// createrepo_c's wall-clock and CPU times divided by ours (above 1: we are
// faster). CPU time tells more than wall-clock time on a busy machine.
func report(b *testing.B, ours, theirs cost) {
	n := float64(b.N)
	b.ReportMetric(ours.wall.Seconds()*1000/n, "kabiforge-ms/op")
	b.ReportMetric(theirs.wall.Seconds()*1000/n, "createrepo_c-ms/op")
	b.ReportMetric(theirs.wall.Seconds()/ours.wall.Seconds(), "speedup")
	b.ReportMetric(theirs.cpu.Seconds()/ours.cpu.Seconds(), "cpu-speedup")
}
