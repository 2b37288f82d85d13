package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
)

//go:embed realkernel/kernel.spec
var realKernelSpecText string

var realKernelSpec = template.Must(template.New("kernel.spec").Parse(realKernelSpecText))

// RealKernel describes an EL-style kernel source package made from one ABI
// of the real kernel family (internal/kernelfamily): Debian's packages are
// its sources, and its build yields kernel-core, kernel-modules and
// kernel-devel as RHEL's kernel.spec does.
type RealKernel struct {
	// Tree is the ABI whose packages become the sources.
	Tree *kernelfamily.Tree
	// Release is the package release before %{dist}: "47" for the ABI's
	// first build, "47.1" for a z-stream rebuild that keeps its kABI.
	Release string
}

// Version is the package version of every real kernel: the ABI's kernel
// version, 6.1.0 for "6.1.0-47".
func (k RealKernel) Version() string {
	v, _, _ := strings.Cut(k.Tree.ABI, "-")
	return v
}

// NVR returns the kernel's version-release as kmod_kernel_version spells it,
// e.g. "6.1.0-47.el8" for dist ".el8".
func (k RealKernel) NVR(dist string) string { return k.Version() + "-" + k.Release + dist }

// RealPayload is the binary payload the real kernels and kmods are built
// with: zstd at a low level, because kernel-modules holds ~150 MB of modules
// and xz would take minutes.
const RealPayload = "w3.zstdio"

// RealHostProvides are the BuildRequires of the real kernel and kmod specs
// that the host satisfies when the rpmbuild builder (which asks no rpm
// database) builds them.
func RealHostProvides() []string {
	return []string{"kmod", "binutils", "gcc", "make", "elfutils-libelf-devel"}
}

var realReleaseRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// Spec renders k's spec. With the package files it names, it determines
// what the source package builds, so callers may key caches by it.
func (k RealKernel) Spec() ([]byte, error) {
	if !realReleaseRE.MatchString(k.Release) {
		return nil, fmt.Errorf("real kernel %s: release %q: want dot-separated numbers such as 47.1", k.Tree.ABI, k.Release)
	}
	if len(k.Tree.Debs) != 4 {
		return nil, fmt.Errorf("real kernel %s: %d packages, want image, headers, common headers and kbuild", k.Tree.ABI, len(k.Tree.Debs))
	}
	var debs []string
	for _, d := range k.Tree.Debs {
		debs = append(debs, filepath.Base(d))
	}
	var b bytes.Buffer
	err := realKernelSpec.Execute(&b, map[string]any{
		"ABI": k.Tree.ABI, "DebRelease": k.Tree.Release, "DebVersion": k.Tree.Version,
		"KbuildVersion": kbuildVersion(k.Tree), "Version": k.Version(), "Release": k.Release, "Debs": debs,
	})
	if err != nil {
		return nil, fmt.Errorf("render real kernel %s spec: %w", k.Tree.ABI, err)
	}
	return b.Bytes(), nil
}

// RealKernelSRPM writes k's source package into dir and returns its path
// (dir/kernel-<version>-<release>.el8.src.rpm).
func RealKernelSRPM(dir string, k RealKernel) (string, error) {
	spec, err := k.Spec()
	if err != nil {
		return "", err
	}
	files := map[string]string{}
	for _, d := range k.Tree.Debs {
		files[filepath.Base(d)] = d
	}
	return buildSRPMFiles(dir, "kernel.spec", spec,
		map[string][]byte{"find-kabi-provides.sh": []byte(findKabiProvides)}, files)
}

// kbuildVersion is the kbuild package's version suffix, "6.1" in
// linux-kbuild-6.1.
func kbuildVersion(t *kernelfamily.Tree) string {
	return strings.TrimPrefix(filepath.Base(t.Kbuild()), "linux-kbuild-")
}

// RealKernels fetches the real family's ABIs (e.g. "6.1.0-47") and returns
// them as kernels of release N (the ABI's number), in the given order.
func RealKernels(ctx context.Context, f *kernelfamily.Fetcher, abis ...string) ([]RealKernel, error) {
	var out []RealKernel
	for _, abi := range abis {
		t, err := f.Tree(ctx, abi)
		if err != nil {
			return nil, err
		}
		_, n, _ := strings.Cut(abi, "-")
		out = append(out, RealKernel{Tree: t, Release: n})
	}
	return out, nil
}
