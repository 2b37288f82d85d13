package activities

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/store"
)

// TestBootTestCatchesAWrongBuildThatPassesTheCRCCheck packages a module
// built for the real family's 6.1.0-47 under RPM Requires that claim the
// 6.1.0-57 CRCs (the module rebuilt for -57, read by modprobe): the CRC
// check passes it, the -57 kernel booted in QEMU refuses it with its own
// message, and the module really built for -57 loads.
func TestBootTestCatchesAWrongBuildThatPassesTheCRCCheck(t *testing.T) {
	qemu := testutil.RequireTool(t, "qemu-system-x86_64")
	modprobe := testutil.RequireTool(t, "modprobe")
	testutil.RequireTool(t, "rpmbuild")
	old, cur := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	src, _ := filepath.Abs("../internal/boot/testdata/hello")
	oldKo := buildHello(ctx, t, old, src)
	newKo := buildHello(ctx, t, cur, src)
	out, err := exec.Command(modprobe, "--dump-modversions", newKo).Output()
	if err != nil {
		t.Fatalf("modprobe --dump-modversions: %v", err)
	}
	var requires []string
	for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		crc, sym, _ := strings.Cut(l, "\t")
		requires = append(requires, fmt.Sprintf("kernel(%s) = 0x%08x", sym, mustHex(t, crc)))
	}
	art, _ := dirStore(t)
	kernel := storeRPMs(t, art, kernelCoreSpec(t, cur, requires))
	wrong := storeRPMs(t, art, kmodSpec(cur.Release, oldKo, requires))
	right := storeRPMs(t, art, kmodSpec(cur.Release, newKo, requires))

	a := &Activities{Artifacts: art, WorkDir: t.TempDir(), Boot: &BootEnv{}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	env.SetTestTimeout(5 * time.Minute)
	v, err := env.ExecuteActivity(a.CheckKmods, pipeline.CheckInput{Kernel: kernel, Kmods: map[string][]pipeline.Artifact{"hello": wrong}})
	if err != nil {
		t.Fatal(err)
	}
	var verdicts []pipeline.KmodVerdict
	if err := v.Get(&verdicts); err != nil || len(verdicts) != 1 || !verdicts[0].Compatible {
		t.Fatalf("CRC check of the wrong build: %+v %v; its Requires claim -57, so it should pass", verdicts, err)
	}
	vm := pipeline.BootVM{QEMU: qemu, TimeLimit: 2 * time.Minute}
	for _, tc := range []struct {
		name   string
		rpms   []pipeline.Artifact
		loaded bool
	}{{"built for -47", wrong, false}, {"built for -57", right, true}} {
		v, err := env.ExecuteActivity(a.BootTest, pipeline.BootInput{KernelNVR: "6.1.0-57.el8", Arch: "x86_64", Kernel: kernel,
			Kmods: map[string][]pipeline.Artifact{"hello": tc.rpms}, VM: vm})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var bo pipeline.BootOutput
		if err := v.Get(&bo); err != nil {
			t.Fatal(err)
		}
		if !bo.Booted || bo.Release != cur.Release || len(bo.Kmods) != 1 || bo.Kmods[0].Loaded != tc.loaded {
			t.Fatalf("%s: %+v", tc.name, bo)
		}
		if !tc.loaded && !strings.Contains(bo.Kmods[0].Reason, "hello: disagrees about version of symbol module_layout") {
			t.Errorf("%s: reason %q lacks the kernel's message", tc.name, bo.Kmods[0].Reason)
		}
		if log := readArtifact(t, art, bo.Log); !strings.Contains(log, "Linux version "+cur.Release) {
			t.Errorf("%s: console log %s does not show the kernel booting:\n%.2000s", tc.name, bo.Log.Key, log)
		}
		t.Logf("%s: boot %s (%s)", tc.name, bo.Elapsed, bo.Accel)
	}
}

func buildHello(ctx context.Context, t *testing.T, tree *kernelfamily.Tree, src string) string {
	t.Helper()
	kos, err := kernelfamily.BuildModule(ctx, tree, src, filepath.Join(t.TempDir(), "hello"))
	if err != nil || len(kos) != 1 {
		t.Fatalf("build hello for %s: %v %v", tree.ABI, kos, err)
	}
	return kos[0]
}

func mustHex(t *testing.T, s string) uint64 {
	var v uint64
	if _, err := fmt.Sscanf(s, "0x%x", &v); err != nil {
		t.Fatalf("CRC %q: %v", s, err)
	}
	return v
}

// kernelCoreSpec packages the tree's vmlinuz as RHEL's kernel-core does,
// providing the kernel(sym) = CRC of the symbols named in requires with the
// CRCs of the tree's own Module.symvers.
func kernelCoreSpec(t *testing.T, tree *kernelfamily.Tree, requires []string) string {
	want := map[string]bool{}
	for _, r := range requires {
		sym := strings.TrimSuffix(strings.TrimPrefix(strings.Fields(r)[0], "kernel("), ")")
		want[sym] = true
	}
	f, err := os.Open(tree.Symvers())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var provides []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) >= 3 && fs[2] == "vmlinux" && want[fs[1]] {
			provides = append(provides, fmt.Sprintf("Provides: kernel(%s) = %s", fs[1], fs[0]))
		}
	}
	if len(provides) != len(want) {
		t.Fatalf("Module.symvers has %d of the %d symbols", len(provides), len(want))
	}
	return fmt.Sprintf(`Name: kernel-core
Version: 6.1.0
Release: 57
Summary: the real 6.1.0-57 kernel image
License: GPL-2.0
%s
%%description
test
%%install
mkdir -p %%{buildroot}/lib/modules/%s
cp %s %%{buildroot}/lib/modules/%s/vmlinuz
%%files
/lib/modules/%s
`, strings.Join(provides, "\n"), tree.Release, tree.Vmlinuz(), tree.Release, tree.Release)
}

// kmodSpec packages ko, xz-compressed, under the given Requires.
func kmodSpec(release, ko string, requires []string) string {
	var req []string
	for _, r := range requires {
		req = append(req, "Requires: "+r)
	}
	return fmt.Sprintf(`Name: kmod-hello
Version: 1.0
Release: 1
Summary: hello
License: GPL-2.0
%s
%%description
test
%%install
mkdir -p %%{buildroot}/lib/modules/%s/extra/hello
cp %s %%{buildroot}/lib/modules/%s/extra/hello/
xz %%{buildroot}/lib/modules/%s/extra/hello/hello.ko
%%files
/lib/modules/%s/extra
`, strings.Join(req, "\n"), release, ko, release, release, release)
}

func storeRPMs(t *testing.T, st store.Store, spec string) []pipeline.Artifact {
	t.Helper()
	var out []pipeline.Artifact
	for _, p := range testutil.RPMBuild(t, spec, "--define", "__os_install_post %{nil}") {
		a, err := putFile(context.Background(), st, KindRPM, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func readArtifact(t *testing.T, st store.Store, a pipeline.Artifact) string {
	t.Helper()
	r, _, err := st.Get(context.Background(), a.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
