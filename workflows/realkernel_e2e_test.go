package workflows_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/publish"
)

// TestRealKernelsEndToEnd runs the real kernel family through the pipeline
// on the embedded Temporal server with the rpmbuild builder: kernel
// 6.1.0-47 and the three real kmods compiled from C and published; a
// z-stream rebuild of the same ABI (release 47.1) keeps every kmod; then
// 6.1.0-57 rebuilds exactly the kmods whose symbols moved. Every expected
// count and split is computed here from the published packages with rpm2cpio,
// modprobe --dump-modversions, awk and join, not by kabiforge's code.
// Secure Boot: the first kfmisc build is tampered with after signing and
// refused before publishing (the gate holds, nothing is published) until
// it is retried; at the end openssl, modinfo and sbverify check the
// published modules and kernel images against the certificate from the
// installed <name>-release, and no history, log, SRPM or published file
// holds key material.
func TestRealKernelsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("three real kernel package builds and six kmod compiles: runs without -short")
	}
	n1Tree, n2Tree := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	tb := &tamperingBuilder{Builder: kftest.KmodBuilder(t), Kmod: demo.RealKmodMisc}
	p := newPipeline(t, pipelineSetup{builder: tb, name: "rpmbuild", version: "6.1.0", build: 30 * time.Minute})
	p.tamper = tb
	runRealKernels(t, p, demo.RealKernel{Tree: n1Tree, Release: "47"}, demo.RealKernel{Tree: n2Tree, Release: "57"})
}

// runRealKernels is the real-kernel end-to-end run on a started pipeline
// (its builder decides rpmbuild or mock).
func runRealKernels(t *testing.T, p *livePipeline, n1, n2 demo.RealKernel) {
	for _, tool := range []string{"modprobe", "rpm2cpio", "cpio", "join", "awk"} {
		testutil.RequireTool(t, tool)
	}
	zs := demo.RealKernel{Tree: n1.Tree, Release: n1.Release + ".1"}
	v1, vz, v2 := n1.NVR(".el8"), zs.NVR(".el8"), n2.NVR(".el8")
	for _, name := range demo.RealKmodNames() {
		p.plan.Kmods = append(p.plan.Kmods, pipeline.KmodSpec{Name: name, Package: "kmod-" + name, Source: "upstream"})
		if _, err := demo.RealKmodSRPM(p.upstream, name, v1, "1"); err != nil {
			t.Fatal(err)
		}
	}
	work := t.TempDir()

	// N1: nothing published yet, so every kmod is compiled for it. With a
	// tampering builder, the first kmod build is tampered with: refused
	// before publishing, it is retried (one more kmod build).
	start := time.Now()
	retries := 0
	if p.tamper != nil {
		p.tamper.armed.Store(true)
	}
	p.addRealKernel(n1)
	if res := p.watch(); !slices.Equal(res.Started, []string{"kernel/" + v1}) {
		t.Fatalf("first watch %+v", res)
	}
	if p.tamper != nil {
		p.checkTamperedRefused(v1, nil)
		retries++
	}
	if res := p.result(v1); res.Stage != pipeline.StagePublished {
		t.Fatalf("%s: %+v", v1, res)
	}
	for name, u := range p.status(v1).Kmods {
		if u.State != pipeline.StateRebuilt {
			t.Errorf("%s: kmod %s %+v", v1, name, u)
		}
	}
	t.Logf("%s and three kmods compiled and published in %v", v1, time.Since(start).Round(time.Second))
	n1Symvers := p.publishedSymvers(v1, work)
	n1Kos := p.publishedKos(v1, work)

	// The z-stream release of the same ABI: same symbols, every kmod kept.
	start = time.Now()
	p.addRealKernel(zs)
	p.watch()
	if res := p.result(vz); res.Stage != pipeline.StagePublished {
		t.Fatalf("%s: %+v", vz, res)
	}
	t.Logf("%s published in %v", vz, time.Since(start).Round(time.Second))
	zSymvers := p.publishedSymvers(vz, work)
	p.checkRelease(vz, v1, n1Symvers, zSymvers, n1Symvers, n1Kos)
	if ids := p.kmodBuilds(3 + retries); len(ids) != 3+retries {
		t.Errorf("kmod builds after %s: %v, want only the three for %s (and %d retried)", vz, ids, v1, retries)
	}

	// N2: a new ABI; only the kmods whose symbols moved are compiled again.
	p.addRealKernel(n2)
	landed := time.Now()
	p.watch()
	if res := p.result(v2); res.Stage != pipeline.StagePublished || len(res.Excluded) != 0 {
		t.Fatalf("%s: %+v", v2, res)
	}
	dnf := testutil.NewDNFRoot(t)
	dnf.AddRepo(testutil.Repo{Name: repoName, BaseURL: "file://" + p.repoDir, GPGKey: "file://" + filepath.Join(p.repoDir, publish.KeyFileKey(repoName))})
	if out, err := dnf.Run("list", "--available", "kernel-core-"+v2); err != nil {
		t.Fatalf("dnf does not see %s: %v\n%s", v2, err, out)
	}
	took := time.Since(landed)
	t.Logf("%s: %v from SRPM upstream to dnf seeing it (kernel package build %v, kmod compiles included)",
		v2, took.Round(time.Second), p.activityTime("build/kernel-"+v2+"/x86_64", "Build").Round(time.Second))
	n2Symvers := p.publishedSymvers(v2, work)
	rebuilt := p.checkRelease(v2, vz, zSymvers, n2Symvers, n1Symvers, n1Kos)
	if len(rebuilt) == 0 {
		t.Errorf("%s rebuilt no kmod: the ABI bump must break them (module_layout)", v2)
	}
	if ids := p.kmodBuilds(3 + retries + len(rebuilt)); len(ids) != 3+retries+len(rebuilt) {
		t.Errorf("kmod builds after %s: %v, want the three for %s (and %d retried) and %v", v2, ids, v1, retries, rebuilt)
	}

	// dnf installs the new kernel and every kmod; the rebuilt ones are the
	// builds for N2, with modules compiled against N2's symbols.
	pkgs := []string{"kernel-core-" + v2}
	for _, name := range demo.RealKmodNames() {
		pkgs = append(pkgs, "kmod-"+name)
	}
	if out, err := dnf.Install(append(pkgs, repoName+"-release")...); err != nil {
		t.Fatalf("dnf install: %v\n%s", err, out)
	}
	installed := strings.Join(dnf.Installed(t), "\n")
	for _, w := range pkgs {
		if !strings.Contains(installed, w) {
			t.Errorf("installed:\n%s\nlacks %s", installed, w)
		}
	}
	for _, name := range rebuilt {
		ko := filepath.Join(dnf.Root, "lib", "modules", v2+".x86_64", "extra", name, name+".ko")
		if moved := movedSymbols(t, n1Symvers, n2Symvers, ko); moved != 0 {
			t.Errorf("installed %s: %d symbols disagree with %s", ko, moved, v2)
		}
	}

	// Modules and kernel images are signed with the repository's key, and
	// no key material is in any history, log, SRPM or published file.
	if p.modKey != nil {
		p.checkSecureBoot(dnf.Root)
		p.checkRealSecureBoot(dnf.Root, v2, t.TempDir())
	}
	for _, id := range []string{"kernel/" + v1, "kernel/" + v2, "build/kernel-" + v2 + "/x86_64", pipeline.RepoPublishID(repoName)} {
		p.checkHistory(id)
	}
	p.checkNoKeyIn(filepath.Dir(p.repoDir))
}

// checkRelease checks a published kernel's kABI report against counts
// computed with join from its symvers and its predecessor's (prevSymvers),
// and that exactly the kmods whose symbols moved since the kernel their
// published builds were compiled against (builtSymvers, kos) were rebuilt.
// It returns the rebuilt kmods.
func (p *livePipeline) checkRelease(vr, prev, prevSymvers, symvers, builtSymvers string, kos map[string]string) (rebuilt []string) {
	t := p.t
	t.Helper()
	added, removed, changed := joinCounts(t, prevSymvers, symvers)
	s := p.status(vr)
	if s.Kabi.Previous != prev || s.Kabi.Added != added || s.Kabi.Removed != removed || s.Kabi.Changed != changed {
		t.Errorf("%s: kABI report previous %s, %d added, %d removed, %d changed; join of the symvers: previous %s, %d added, %d removed, %d changed",
			vr, s.Kabi.Previous, s.Kabi.Added, s.Kabi.Removed, s.Kabi.Changed, prev, added, removed, changed)
	}
	var broken []string
	for _, name := range demo.RealKmodNames() {
		want := pipeline.StateCompatible
		if movedSymbols(t, builtSymvers, symvers, kos[name]) > 0 {
			want = pipeline.StateRebuilt
			broken = append(broken, name)
		}
		if got := s.Kmods[name]; got.State != want {
			t.Errorf("%s: kmod %s %+v, want %s", vr, name, got, want)
		}
		if s.Kmods[name].State == pipeline.StateRebuilt {
			rebuilt = append(rebuilt, name)
		}
	}
	sort.Strings(broken)
	if b := slices.Sorted(slices.Values(s.Kabi.Broken)); !slices.Equal(b, broken) {
		t.Errorf("%s: kABI report breaks %v, want %v", vr, b, broken)
	}
	t.Logf("%s after %s: %d added, %d removed, %d changed; kmods rebuilt %v", vr, prev, added, removed, changed, rebuilt)
	return rebuilt
}

// kmodBuilds lists the kmod PackageBuild workflows, waiting for
// visibility to show want of them.
func (p *livePipeline) kmodBuilds(want int) []string {
	return p.listed(`WorkflowType = "PackageBuild" AND WorkflowId STARTS_WITH "build/kmod-"`, want)
}

func (p *livePipeline) addRealKernel(k demo.RealKernel) {
	p.t.Helper()
	if _, err := demo.RealKernelSRPM(p.upstream, k); err != nil {
		p.t.Fatal(err)
	}
}

// publishedPackages returns the published packages whose provides include
// "<provide> = <version>", by name.
func (p *livePipeline) publishedPackages(provide, version string) map[string]string {
	p.t.Helper()
	all, _ := filepath.Glob(filepath.Join(p.repoDir, "Packages", "*", "*.rpm"))
	out := map[string]string{}
	for _, path := range all {
		res, err := exec.Command("rpm", "-qp", "--qf", "%{NAME}\n[%{PROVIDENAME} = %{PROVIDEVERSION}\n]", path).Output()
		if err != nil {
			p.t.Fatalf("rpm -qp %s: %v", path, err)
		}
		lines := strings.Split(string(res), "\n")
		if slices.Contains(lines[1:], provide+" = "+version) {
			out[lines[0]] = path
		}
	}
	return out
}

// publishedSymvers extracts kernel-core's symvers.gz of kernel vr from the
// published repository into dir and returns the uncompressed file.
func (p *livePipeline) publishedSymvers(vr, dir string) string {
	p.t.Helper()
	core, ok := p.publishedPackages("kernel-core-uname-r", vr+".x86_64")["kernel-core"]
	if !ok {
		p.t.Fatalf("no kernel-core %s published", vr)
	}
	out := filepath.Join(dir, "symvers-"+vr)
	shell(p.t, `rpm2cpio "$1" | cpio -i --quiet --to-stdout "./lib/modules/$2/symvers.gz" | gzip -dc > "$3"`, core, vr+".x86_64", out)
	return out
}

// publishedKos extracts the .ko of each kmod built for kernel vr into dir.
func (p *livePipeline) publishedKos(vr, dir string) map[string]string {
	p.t.Helper()
	kos := map[string]string{}
	pkgs := p.publishedPackages("kabi-modules", vr)
	for _, name := range demo.RealKmodNames() {
		rpm, ok := pkgs["kmod-"+name]
		if !ok {
			p.t.Fatalf("no kmod-%s for %s published (found %v)", name, vr, pkgs)
		}
		kos[name] = filepath.Join(dir, name+"-"+vr+".ko")
		shell(p.t, `rpm2cpio "$1" | cpio -i --quiet --to-stdout "./lib/modules/$2/extra/$3/$3.ko" > "$4"`, rpm, vr+".x86_64", name, kos[name])
	}
	return kos
}

// joinCounts counts, with awk and join, the exports (vmlinux's and the
// in-tree modules') added to, removed from and changed in CRC between two
// Module.symvers files.
func joinCounts(t *testing.T, old, new string) (added, removed, changed int) {
	t.Helper()
	out := shell(t, `rows() { awk '{print $2, $1}' "$1" | sort; }
rows "$1" > "$3.old"; rows "$2" > "$3.new"
join -v2 "$3.old" "$3.new" | wc -l
join -v1 "$3.old" "$3.new" | wc -l
join "$3.old" "$3.new" | awk '$2 != $3' | wc -l
rm "$3.old" "$3.new"`, old, new, filepath.Join(t.TempDir(), "vmlinux"))
	n := ints(t, out, 3)
	return n[0], n[1], n[2]
}

// movedSymbols counts the kernel symbols module ko uses (modprobe
// --dump-modversions rows whose symbol either kernel's vmlinux exports) that
// the new kernel does not export with the same CRC.
func movedSymbols(t *testing.T, old, new, ko string) int {
	t.Helper()
	out := shell(t, `vm() { awk '$3 == "vmlinux" {print $2, $1}' "$1" | sort; }
vm "$1" > "$4.old"; vm "$2" > "$4.new"
cut -d' ' -f1 "$4.old" "$4.new" | sort -u > "$4.names"
modprobe --dump-modversions "$3" | awk '{print $2, $1}' | sort > "$4.mod"
join "$4.mod" "$4.names" > "$4.kernel"
test -s "$4.kernel"
join "$4.kernel" "$4.new" | awk '$2 == $3' | wc -l
wc -l < "$4.kernel"
rm "$4".*`, old, new, ko, filepath.Join(t.TempDir(), "mod"))
	n := ints(t, out, 2)
	return n[1] - n[0]
}

// shell runs a POSIX shell script with args ($1 …) in the C locale and
// returns its output, failing the test when it fails.
func shell(t *testing.T, script string, args ...string) string {
	t.Helper()
	cmd := exec.Command("sh", append([]string{"-ec", script, "sh"}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	out, err := cmd.Output()
	if err != nil {
		stderr := ""
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = string(ee.Stderr)
		}
		t.Fatalf("sh %q %v: %v\n%s", script, args, err, stderr)
	}
	return string(out)
}

// ints parses want integers, one per line.
func ints(t *testing.T, out string, want int) []int {
	t.Helper()
	f := strings.Fields(out)
	if len(f) != want {
		t.Fatalf("want %d numbers, got %q", want, out)
	}
	n := make([]int, want)
	for i, s := range f {
		v, err := strconv.Atoi(s)
		if err != nil {
			t.Fatal(err)
		}
		n[i] = v
	}
	return n
}
