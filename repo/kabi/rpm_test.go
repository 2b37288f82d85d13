package kabi

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"text/template"

	"github.com/ulikunitz/xz"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// kmodCase is one subpackage of testdata/kmods.spec.tmpl.
type kmodCase struct {
	Name     string
	Requires []Need
	Module   string // a kernel module file in the source directory
}

// renderSpec fills the spec template testdata/<name> with data.
func renderSpec(t testing.TB, name string, data any) string {
	t.Helper()
	tmpl, err := template.ParseFiles(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, data); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// symversText formats symbols as Module.symvers rows.
func symversText(syms []Symbol) string {
	var b strings.Builder
	for _, s := range syms {
		fmt.Fprintf(&b, "%v\t%s\t%s\t%s\n", s.CRC, s.Name, s.Module, s.Export)
	}
	return b.String()
}

func byName(t *testing.T, rpms []string) map[string]*rpm.Package {
	t.Helper()
	out := make(map[string]*rpm.Package)
	for _, p := range rpms {
		pkg, err := rpm.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		out[pkg.NEVRA.Name] = pkg
	}
	return out
}

// syntheticKernelRPMs builds kernel-core, kernel-devel and
// kernel-abi-stablelists whose ABI is the real RHEL 8.8 list plus greylist.
func syntheticKernelRPMs(t *testing.T, greylist []Symbol) (map[string]*rpm.Package, []string) {
	t.Helper()
	real := mustRead(t, kabiLists(t, "c8")["4.18.0-477.10.1.el8_8"])
	syms := append(real.Symbols(), greylist...)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "symvers"), symversText(syms))
	list := "[rhel8_x86_64_stablelist]\n"
	for _, s := range real.Symbols() {
		list += "\t" + s.Name + "\n"
	}
	writeFile(t, filepath.Join(src, "kabi_stablelist_x86_64"), list)
	spec := renderSpec(t, "kernel.spec.tmpl", map[string]any{
		"Version": "4.18.0", "Release": "477.10.1", "Symbols": syms})
	rpms := testutil.RPMBuild(t, spec, "--define", "_sourcedir "+src)
	return byName(t, rpms), rpms
}

func TestKabiOfRPMsBuiltByRpmbuildAgreesWithDnf(t *testing.T) {
	testutil.RequireTool(t, "createrepo_c")
	greylist := []Symbol{
		{Name: "kabiforge_grey_ok", CRC: 0x1234abcd, Module: "vmlinux", Export: "EXPORT_SYMBOL_GPL"},
		{Name: "kabiforge_grey_other", CRC: 0x0badcafe, Module: "drivers/kabiforge/grey", Export: "EXPORT_SYMBOL"},
	}
	kpkgs, krpms := syntheticKernelRPMs(t, greylist)
	core := kpkgs["kernel-core"]

	// kernel-core's Provides, its symvers.gz and kernel-devel's Module.symvers agree.
	fromProvides, ok, err := KernelFromRPM(core)
	if err != nil || !ok || fromProvides.Len() != 756+2 {
		t.Fatalf("kernel-core Provides: %v, %v, %d symbols", ok, err, fromProvides.Len())
	}
	for _, pkg := range []*rpm.Package{core, kpkgs["kernel-devel"]} {
		fromPayload, ok, err := PayloadSymvers(pkg)
		if err != nil || !ok {
			t.Fatalf("%s payload: %v %v", pkg.NEVRA, ok, err)
		}
		if d := Diff(fromProvides, fromPayload); !d.Empty() {
			t.Errorf("%s symbol table differs from kernel-core's Provides: %+v", pkg.NEVRA, d)
		}
	}
	if devel, ok, err := KernelFromRPM(kpkgs["kernel-devel"]); err != nil || !ok || devel.Len() != 758 {
		t.Errorf("kernel-devel: %v %v", ok, err)
	}

	kmalloc, _ := fromProvides.Lookup("__kmalloc")
	cases := []kmodCase{
		{Name: "good", Requires: []Need{{Name: "__kmalloc", CRC: kmalloc.CRC}, {Name: "kabiforge_grey_ok", CRC: 0x1234abcd}}},
		{Name: "stablebreak", Requires: []Need{{Name: "__kmalloc", CRC: kmalloc.CRC + 1}, {Name: "kabiforge_grey_ok", CRC: 0x1234abcd}}},
		{Name: "greybreak", Requires: []Need{{Name: "__kmalloc", CRC: kmalloc.CRC}, {Name: "kabiforge_grey_ok", CRC: 0x1234abce}}},
		{Name: "missing", Requires: []Need{{Name: "__kmalloc", CRC: kmalloc.CRC}, {Name: "kabiforge_not_exported", CRC: 0x1}}},
	}
	spec := renderSpec(t, "kmods.spec.tmpl", map[string]any{"Kmods": cases, "KVer": "4.18.0-477.10.1.el8.x86_64"})
	mrpms := testutil.RPMBuild(t, spec)
	repo := t.TempDir()
	for _, p := range append(krpms, mrpms...) {
		copyFile(t, p, filepath.Join(repo, filepath.Base(p)))
	}

	// The directory as a whole: Provides of kernel-core, the stablelist of
	// kernel-abi-stablelists, and one kmod per kmod package.
	kernel, err := LoadKernel(repo)
	if err != nil {
		t.Fatal(err)
	}
	if kernel.Len() != 758 || kernel.Stablelist() == nil || kernel.Stablelist().Len() != 756 {
		t.Fatalf("kernel from %s: %d symbols, stablelist %v", repo, kernel.Len(), kernel.Stablelist())
	}
	kmods, err := LoadKmods(repo)
	if err != nil || len(kmods) != len(cases) {
		t.Fatalf("kmods: %d, %v", len(kmods), err)
	}
	verdicts := make(map[string]Verdict)
	for _, v := range CheckAll(kernel, kmods, nil) {
		verdicts[strings.SplitN(strings.TrimPrefix(v.Kmod, "kmod-"), "-", 2)[0]] = v
	}
	want := map[string]string{
		"good":        "",
		"stablebreak": "mismatched __kmalloc stablelist",
		"greybreak":   "mismatched kabiforge_grey_ok greylist",
		"missing":     "missing kabiforge_not_exported greylist",
	}
	for name, w := range want {
		if got := describe(verdicts[name]); got != w {
			t.Errorf("kmod-%s: verdict %q, want %q", name, got, w)
		}
	}

	// dnf agrees: it installs the compatible kmod (pulling in kernel-core)
	// and refuses each broken one for the symbol we named.
	out, err := exec.Command("createrepo_c", repo).CombinedOutput()
	if err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "kabi-test", BaseURL: "file://" + repo})
	for _, c := range cases[1:] {
		out, err := root.Install("kmod-" + c.Name)
		v := verdicts[c.Name]
		b := append(v.Mismatched, v.Missing...)[0]
		wantMsg := fmt.Sprintf("nothing provides kernel(%s) = %v needed by kmod-%s", b.Name, b.Want, c.Name)
		if err == nil || !strings.Contains(out, wantMsg) {
			t.Errorf("dnf install kmod-%s: err %v, output lacks %q:\n%s", c.Name, err, wantMsg, out)
		}
	}
	if out, err := root.Install("kmod-good"); err != nil {
		t.Fatalf("dnf install kmod-good: %v\n%s", err, out)
	}
	installed := strings.Join(root.Installed(t), " ")
	if !strings.Contains(installed, "kmod-good-1.0-1.el8.x86_64") || !strings.Contains(installed, "kernel-core-4.18.0-477.10.1.el8.x86_64") {
		t.Errorf("installed: %s", installed)
	}
}

// describe summarises a verdict as "kind symbol list" per break.
func describe(v Verdict) string {
	var parts []string
	for _, b := range v.Mismatched {
		parts = append(parts, "mismatched "+b.Name+" "+tag(b.Stablelisted))
	}
	for _, b := range v.Missing {
		parts = append(parts, "missing "+b.Name+" "+tag(b.Stablelisted))
	}
	if v.Compatible != (len(parts) == 0) {
		return "inconsistent"
	}
	return strings.Join(parts, "; ")
}

func tag(stable bool) string {
	if stable {
		return "stablelist"
	}
	return "greylist"
}

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// hostKernelRPMs builds kernel-core, kernel-devel and kernel-abi-stablelists
// from the vmlinux rows of the host kernel headers' real Module.symvers: the
// kernel the test module is compiled for. Its stablelist holds the symbols
// that are also on the RHEL 8.8 list.
func hostKernelRPMs(t *testing.T) (repo string) {
	t.Helper()
	host, err := ReadSymversFile(filepath.Join(kernelHeaders(t), "Module.symvers"))
	if err != nil {
		t.Fatal(err)
	}
	rhel := mustRead(t, kabiLists(t, "c8")["4.18.0-477.10.1.el8_8"])
	var syms []Symbol
	list := "[rhel8_x86_64_stablelist]\n"
	for _, s := range host.Symbols() {
		if s.Module == "vmlinux" {
			syms = append(syms, s)
			if rhel.Stablelisted(s.Name) {
				list += "\t" + s.Name + "\n"
			}
		}
	}
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "symvers"), symversText(syms))
	writeFile(t, filepath.Join(src, "kabi_stablelist_x86_64"), list)
	spec := renderSpec(t, "kernel.spec.tmpl", map[string]any{"Version": "6.1.0", "Release": "56", "Symbols": syms})
	repo = t.TempDir()
	for _, p := range testutil.RPMBuild(t, spec, "--define", "_sourcedir "+src) {
		copyFile(t, p, filepath.Join(repo, filepath.Base(p)))
	}
	return repo
}

func TestKmodRPMWithARealModuleIsCheckedFromItsVersions(t *testing.T) {
	testutil.RequireTool(t, "createrepo_c")
	ko := buildHelloModule(t)
	modversions := dumpModversions(t, ko)
	src := t.TempDir()
	raw, err := os.ReadFile(ko)
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(src, "kabiforge_hello.ko.xz"), string(xzBytes(t, raw)))
	m, err := ParseKernelModule(raw, ko)
	if err != nil {
		t.Fatal(err)
	}
	// kmod-hello ships the .ko.xz and no kernel(sym) Requires; kmod-hello-req
	// carries the Requires RHEL's find-requires.ksyms would generate from it.
	cases := []kmodCase{{Name: "hello", Module: "kabiforge_hello.ko.xz"}, {Name: "hello-req", Requires: m.Versions}}
	spec := renderSpec(t, "kmods.spec.tmpl", map[string]any{"Kmods": cases, "KVer": "6.1.0-56.el8.x86_64"})
	kmodRPMs := byName(t, testutil.RPMBuild(t, spec, "--define", "_sourcedir "+src))
	hello, ok, err := KmodFromRPM(kmodRPMs["kmod-hello"])
	if err != nil || !ok {
		t.Fatalf("kmod-hello: %v %v", ok, err)
	}
	fromReq, _, err := KmodFromRPM(kmodRPMs["kmod-hello-req"])
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range hello.Needs {
		if want := modversions[n.Name]; !n.HasCRC || n.CRC.String() != want {
			t.Errorf("kmod-hello needs %s %v, modprobe says %q", n.Name, n.CRC, want)
		}
	}
	if len(hello.Needs) != len(modversions) || len(fromReq.Needs) != len(modversions) {
		t.Errorf("kmod-hello needs %d symbols, its Requires %d, modprobe lists %d", len(hello.Needs), len(fromReq.Needs), len(modversions))
	}

	hostRepo := hostKernelRPMs(t)
	hostKernel, err := LoadKernel(hostRepo)
	if err != nil {
		t.Fatal(err)
	}
	if v := Check(hostKernel, hello); !v.Compatible || v.Checked != len(modversions) {
		t.Errorf("kmod-hello on the kernel it was built for: %+v", v)
	}
	rhelKernel, _ := syntheticKernelRPMs(t, nil)
	rhel, _, err := KernelFromRPM(rhelKernel["kernel-core"])
	if err != nil {
		t.Fatal(err)
	}
	rhel.SetStablelist(rhel.AsStablelist())
	v := Check(rhel, hello)
	if v.Compatible || len(v.Mismatched) == 0 || v.Mismatched[0].Name != "kmalloc_caches" || !v.Mismatched[0].Stablelisted {
		t.Errorf("kmod-hello on RHEL 8.8: %+v", v)
	}

	// dnf agrees on kmod-hello-req: installable with the host kernel-core,
	// and the stablelist mismatch is what it reports for the RHEL one.
	for _, p := range kmodRPMs {
		copyFile(t, p.Path, filepath.Join(hostRepo, filepath.Base(p.Path)))
	}
	if out, err := exec.Command("createrepo_c", hostRepo).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "host", BaseURL: "file://" + hostRepo})
	if out, err := root.Install("kmod-hello-req"); err != nil {
		t.Fatalf("dnf install kmod-hello-req with the host kernel: %v\n%s", err, out)
	}
	rhelRepo := t.TempDir()
	copyFile(t, rhelKernel["kernel-core"].Path, filepath.Join(rhelRepo, "kernel-core.rpm"))
	copyFile(t, kmodRPMs["kmod-hello-req"].Path, filepath.Join(rhelRepo, "kmod-hello-req.rpm"))
	if out, err := exec.Command("createrepo_c", rhelRepo).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c: %v\n%s", err, out)
	}
	root = testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "rhel", BaseURL: "file://" + rhelRepo})
	out, err := root.Install("kmod-hello-req")
	if err == nil || !strings.Contains(out, "nothing provides kernel(") {
		t.Fatalf("dnf installed kmod-hello-req on RHEL 8.8: %v\n%s", err, out)
	}
	for _, line := range strings.Split(out, "\n") {
		if i := strings.Index(line, "nothing provides kernel("); i >= 0 {
			sym := strings.SplitN(line[i+len("nothing provides kernel("):], ")", 2)[0]
			if !hasBreak(v, sym) {
				t.Errorf("dnf reports %s, which Check found fine:\n%s", sym, out)
			}
		}
	}
}

func hasBreak(v Verdict, sym string) bool {
	for _, b := range append(v.Mismatched, v.Missing...) {
		if b.Name == sym {
			return true
		}
	}
	return false
}

func xzBytes(t *testing.T, data []byte) []byte {
	t.Helper()
	var b strings.Builder
	w, err := xz.NewWriter(&b)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return []byte(b.String())
}
