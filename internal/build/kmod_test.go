package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

const (
	kernelA = "4.18.0-80.el8"
	kernelB = "4.18.0-80.1.2.el8_0"
)

// buildKmod builds a kmod SRPM against the kernel repository and returns the
// result.
func buildKmod(t *testing.T, srpm, kernelRepo string, macros map[string]string) Result {
	t.Helper()
	res, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: srpm, Arch: "x86_64",
		ResultDir: t.TempDir(), Macros: macros, Repos: []Repo{{Name: "kernel", URL: kernelRepo}}})
	if err != nil {
		t.Fatalf("build %s: %v", filepath.Base(srpm), err)
	}
	return res
}

func requires(t *testing.T, rpm string) []string {
	t.Helper()
	out, err := exec.Command("rpm", "-qp", "--requires", rpm).Output()
	if err != nil {
		t.Fatalf("rpm -qp --requires %s: %v", rpm, err)
	}
	return strings.Split(strings.TrimSpace(string(out)), "\n")
}

// The acceptance test: a kmod built against kernel A installs with
// A, dnf refuses it with kernel B (which changed a symbol it uses), and once
// retargeted and rebuilt against B it installs with B.
func TestKmodFollowsItsKernelThroughDnf(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	a := demo.BaseKernel()
	b := demo.NextKernel(a, kernelB)
	repoA, repoB := buildKernel(t, a), buildKernel(t, b)
	fragile := demo.Kmods(kernelA)[1]
	srpm, err := demo.KmodSRPM(t.TempDir(), fragile)
	if err != nil {
		t.Fatal(err)
	}

	built := buildKmod(t, srpm, repoA, nil)
	symA, _ := a.Symbol(demo.FragileSymbol)
	wantA := fmt.Sprintf("kernel(%s) = 0x%08x", demo.FragileSymbol, symA.CRC)
	if !slices.Contains(requires(t, built.RPMs[0]), wantA) {
		t.Fatalf("kmod lacks Requires %q", wantA)
	}
	kmodRepo := t.TempDir()
	copyInto(t, kmodRepo, built.RPMs...)
	createrepo(t, kmodRepo)

	if out, err := dnfInstall(t, []string{repoA, kmodRepo}, "kernel-core", "kmod-fragiledrv"); err != nil {
		t.Fatalf("kmod built for A does not install with A: %v\n%s", err, out)
	}
	out, err := dnfInstall(t, []string{repoB, kmodRepo}, "kernel-core", "kmod-fragiledrv")
	if err == nil || !strings.Contains(out, "nothing provides "+wantA) {
		t.Fatalf("dnf accepted the kmod built for A with kernel B (err %v):\n%s", err, out)
	}

	re, err := Retarget(context.Background(), RetargetRequest{SRPM: srpm, KernelNVR: kernelB, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if re.Macros != nil || re.Release != "2" || filepath.Base(re.SRPM) != "kmod-fragiledrv-2.3-2.el8.src.rpm" {
		t.Errorf("retargeted = %+v, want release 2 and no macros (the version is hard-coded)", re)
	}
	rebuilt := buildKmod(t, re.SRPM, repoB, re.Macros)
	newRepo := t.TempDir()
	copyInto(t, newRepo, rebuilt.RPMs...)
	createrepo(t, newRepo)
	if out, err := dnfInstall(t, []string{repoB, newRepo}, "kernel-core", "kmod-fragiledrv"); err != nil {
		t.Fatalf("retargeted kmod does not install with B: %v\n%s", err, out)
	}
}

func TestRetargetOverridableSpecByDefine(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	tunable := demo.Kmods(kernelA)[2]
	srpm, err := demo.KmodSRPM(t.TempDir(), tunable)
	if err != nil {
		t.Fatal(err)
	}
	re, err := Retarget(context.Background(), RetargetRequest{SRPM: srpm, KernelNVR: kernelB, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"kmod_kernel_version": kernelB, "kmod_rpm_release": "2"}
	if fmt.Sprint(re.Macros) != fmt.Sprint(want) {
		t.Errorf("macros = %v, want %v", re.Macros, want)
	}
	// The spec inside is unchanged: the version comes by --define.
	spec := extractSpec(t, re.SRPM)
	if !strings.Contains(spec, "%{!?kmod_kernel_version: %define kmod_kernel_version "+kernelA+"}") {
		t.Errorf("overridable spec was rewritten:\n%s", spec)
	}
	// Built against B with those macros, it needs B's kernel-devel and
	// lands under B's module directory.
	res := buildKmod(t, re.SRPM, buildKernel(t, demo.NextKernel(demo.BaseKernel(), kernelB)), re.Macros)
	if base := filepath.Base(res.RPMs[0]); base != "kmod-tunabledrv-0.9-2.el8.x86_64.rpm" {
		t.Errorf("built %s", base)
	}
	files, _ := exec.Command("rpm", "-qpl", res.RPMs[0]).Output()
	if !strings.Contains(string(files), "/lib/modules/"+kernelB+".x86_64/extra/tunabledrv/tunabledrv.ko") {
		t.Errorf("files:\n%s", files)
	}
}

func TestRetargetHardCodedSpecRewritesIt(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	srpm, err := demo.KmodSRPM(t.TempDir(), demo.Kmods(kernelA)[0])
	if err != nil {
		t.Fatal(err)
	}
	re, err := Retarget(context.Background(), RetargetRequest{SRPM: srpm, KernelNVR: kernelB, Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	spec := extractSpec(t, re.SRPM)
	for _, want := range []string{"%define kmod_kernel_version " + kernelB + "\n", "%define kmod_rpm_release 2\n"} {
		if !strings.Contains(spec, want) {
			t.Errorf("spec lacks %q", want)
		}
	}
	if br := requires(t, re.SRPM); !slices.Contains(br, "kernel-devel = "+kernelB) {
		t.Errorf("SRPM BuildRequires %v", br)
	}
}

func TestRetargetSpecCases(t *testing.T) {
	for _, tc := range []struct {
		name, spec, wantSpec, release string
		macros                        map[string]string
		err                           string
	}{
		{name: "global and Release tag",
			spec:     "%global kmod_kernel_version 4.18.0-240.el8\nRelease: 7%{?dist}\n",
			wantSpec: "%global kmod_kernel_version 5.14.0-1.el9\nRelease: 8%{?dist}\n", release: "8"},
		{name: "non-numeric release",
			spec:     "%define kmod_kernel_version 1-1\n%define kmod_rpm_release 3.elrepo\n",
			wantSpec: "%define kmod_kernel_version 5.14.0-1.el9\n%define kmod_rpm_release 3.elrepo.1\n", release: "3.elrepo.1"},
		{name: "overridable version, plain release",
			spec:     "%{!?kmod_kernel_version: %define kmod_kernel_version 1-1}\nRelease: 1%{?dist}\n",
			wantSpec: "%{!?kmod_kernel_version: %define kmod_kernel_version 1-1}\nRelease: 2%{?dist}\n", release: "2",
			macros: map[string]string{"kmod_kernel_version": "5.14.0-1.el9"}},
		{name: "no version", spec: "Name: x\nRelease: 1\n", err: "no kmod_kernel_version definition"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, res, err := retargetSpec([]byte(tc.spec), "5.14.0-1.el9")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || string(got) != tc.wantSpec || res.Release != tc.release || fmt.Sprint(res.Macros) != fmt.Sprint(tc.macros) {
				t.Errorf("got %q %+v %v", got, res, err)
			}
		})
	}
}

func extractSpec(t *testing.T, srpm string) string {
	t.Helper()
	dir := t.TempDir()
	if err := unpackRPM(context.Background(), newLogSink(nil, nil), srpm, dir); err != nil {
		t.Fatal(err)
	}
	specs, _ := filepath.Glob(filepath.Join(dir, "*.spec"))
	if len(specs) != 1 {
		t.Fatalf("specs in %s: %v", srpm, specs)
	}
	data, err := os.ReadFile(specs[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}
