package demo_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestRealKernelPackages builds a real ABI into kernel-core, -modules and
// -devel and checks them with rpm's and kbuild's own tools against the
// distribution's files.
func TestRealKernelPackages(t *testing.T) {
	k := demo.RealKernel{Tree: kftest.Need(t, "6.1.0-47"), Release: "47"}
	rpms, _ := kftest.KernelRPMs(t, k)
	pkg := byName(t, rpms, "kernel-core", "kernel-modules", "kernel-devel")
	kver := k.NVR(".el8") + ".x86_64"

	var provides []string
	for _, l := range rpmQuery(t, "--provides", pkg["kernel-core"]) {
		if strings.HasPrefix(l, "kernel(") {
			provides = append(provides, l)
		}
	}
	var want []string
	for _, f := range symversRows(t, k.Tree.Symvers()) {
		if f[2] == "vmlinux" {
			want = append(want, "kernel("+f[1]+") = "+f[0])
		}
	}
	sort.Strings(provides)
	sort.Strings(want)
	if len(want) < 1000 || strings.Join(provides, "\n") != strings.Join(want, "\n") {
		t.Errorf("kernel-core provides %d kernel(sym) = CRC; Module.symvers has %d vmlinux exports, want the same", len(provides), len(want))
	}
	if !contains(rpmQuery(t, "--provides", pkg["kernel-core"]), "kernel-uname-r = "+kver) {
		t.Errorf("kernel-core does not provide kernel-uname-r = %s", kver)
	}
	core := rpmQuery(t, "-l", pkg["kernel-core"])
	for _, f := range []string{"vmlinuz", "System.map", "config", "symvers.gz"} {
		if !contains(core, "/lib/modules/"+kver+"/"+f) {
			t.Errorf("kernel-core lacks /lib/modules/%s/%s", kver, f)
		}
	}
	kos := 0
	for _, f := range rpmQuery(t, "-l", pkg["kernel-modules"]) {
		if strings.HasSuffix(f, ".ko") {
			kos++
		}
	}
	order := symversRows(t, filepath.Join(k.Tree.ModulesDir(), "modules.order"))
	if kos != len(order) || !contains(rpmQuery(t, "-l", pkg["kernel-modules"]), "/lib/modules/"+kver+"/modules.dep") {
		t.Errorf("kernel-modules has %d .ko files (modules.order lists %d) or lacks modules.dep", kos, len(order))
	}
	develBuildsModule(t, pkg["kernel-devel"], kver, k.Tree.Symvers())
}

// develBuildsModule unpacks kernel-devel alone and builds a module with it.
func develBuildsModule(t *testing.T, rpm, kver, symvers string) {
	root := t.TempDir()
	cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", rpm)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unpack kernel-devel: %v\n%s", err, out)
	}
	mod := t.TempDir()
	for _, f := range []string{"hello.c", "Kbuild"} {
		data, err := os.ReadFile(filepath.Join("..", "kernelfamily", "testdata", "hello", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(mod, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command("make", "-C", filepath.Join(root, "usr", "src", "kernels", kver), "M="+mod, "modules").CombinedOutput()
	if err != nil {
		t.Fatalf("make against kernel-devel alone: %v\n%s", err, out)
	}
	testutil.RequireTool(t, "modprobe")
	ko := filepath.Join(mod, "hello.ko")
	vermagic, _ := exec.Command("modinfo", "-F", "vermagic", ko).Output()
	if !strings.HasPrefix(string(vermagic), kver+" ") {
		t.Errorf("hello.ko vermagic %q, want %s first", vermagic, kver)
	}
	dump, err := exec.Command("modprobe", "--dump-modversions", ko).Output()
	if err != nil {
		t.Fatal(err)
	}
	crcs := map[string]string{}
	for _, f := range symversRows(t, symvers) {
		crcs[f[1]] = f[0]
	}
	for _, l := range strings.Split(strings.TrimSpace(string(dump)), "\n") {
		f := strings.Fields(l)
		if crcs[f[1]] != f[0] {
			t.Errorf("hello.ko built with kernel-devel records %s %s; Module.symvers has %q", f[1], f[0], crcs[f[1]])
		}
	}
}

// byName maps the packages' names to their files; each of want must be
// among them.
func byName(t *testing.T, rpms []string, want ...string) map[string]string {
	m := map[string]string{}
	for _, p := range rpms {
		out, err := exec.Command("rpm", "-qp", "--qf", "%{NAME}", p).Output()
		if err != nil {
			t.Fatalf("rpm -qp %s: %v", p, err)
		}
		m[string(out)] = p
	}
	for _, n := range want {
		if m[n] == "" {
			t.Fatalf("no %s among %v", n, rpms)
		}
	}
	return m
}

func rpmQuery(t *testing.T, what, path string) []string {
	out, err := exec.Command("rpm", "-qp", what, path).Output()
	if err != nil {
		t.Fatalf("rpm -qp %s %s: %v", what, path, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// symversRows splits a whitespace-separated file into fields per line.
func symversRows(t *testing.T, path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	var rows [][]string
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) > 0 {
			rows = append(rows, fields)
		}
	}
	return rows
}

func contains(list []string, s string) bool {
	for _, l := range list {
		if l == s {
			return true
		}
	}
	return false
}
