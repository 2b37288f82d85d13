package boot

import (
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Prepared is a boot made from packages: the kernel's image and in-tree
// modules, and each kmod's .ko files, extracted and put in load order.
type Prepared struct {
	// Request boots the kernel with every kmod's modules and the in-tree
	// modules they depend on.
	Request Request
	// Release is the kernel release the image was packaged for.
	Release string
	// Kmods maps each kmod to the names of the modules it ships.
	Kmods map[string][]string
}

// vmlinuzPath matches a kernel image in a kernel package: RHEL's
// /lib/modules/<release>/vmlinuz or /boot/vmlinuz-<release>.
var vmlinuzPath = regexp.MustCompile(`^/(?:usr/)?lib/modules/([^/]+)/vmlinuz$|^/boot/vmlinuz-(.+)$`)

// Prepare extracts into dir the kernel image and in-tree modules from the
// kernel's packages (kernel-core, kernel-modules…) and the .ko files of each
// kmod's packages (source packages are skipped), and orders the modules with
// Order. Errors name the package or kmod at fault and wrap ErrInput.
func Prepare(kernel []string, kmods map[string][]string, dir string) (*Prepared, error) {
	p := &Prepared{Kmods: map[string][]string{}}
	var kos []string
	owner := map[string]string{}
	names := make([]string, 0, len(kmods))
	for n := range kmods {
		names = append(names, n)
	}
	sort.Strings(names)
	for i, name := range names {
		found, err := extractModules(kmods[name], filepath.Join(dir, fmt.Sprintf("kmod%d", i)))
		if err != nil {
			return nil, fmt.Errorf("kmod %s: %w", name, err)
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%w: kmod %s: no .ko file in %s", ErrInput, name, strings.Join(base(kmods[name]), ", "))
		}
		for _, ko := range found {
			owner[ko] = name
		}
		kos = append(kos, found...)
	}
	treeDir := filepath.Join(dir, "kernel")
	if err := p.extractKernel(kernel, kos, treeDir); err != nil {
		return nil, err
	}
	modulesDir := filepath.Join(treeDir, "lib", "modules", p.Release)
	if err := os.MkdirAll(modulesDir, 0o755); err != nil { // none may be needed
		return nil, err
	}
	mods, err := Order(kos, modulesDir)
	if err != nil {
		return nil, err
	}
	for _, m := range mods {
		if k, ok := owner[m.Path]; ok {
			p.Kmods[k] = append(p.Kmods[k], m.Name)
		}
	}
	p.Request.Modules = mods
	return p, nil
}

// extractKernel writes the kernel image and, of the in-tree modules, only
// those the kmods need (transitively): a kernel-modules package holds
// thousands. Each pass over the packages extracts the modules wanted so
// far; the dependencies of those make the next pass's wants.
func (p *Prepared) extractKernel(kernel, kos []string, treeDir string) error {
	have := map[string]bool{}
	want := map[string]bool{}
	if err := addDeps(kos, have, want); err != nil {
		return err
	}
	for pass := 0; ; pass++ {
		var got []string
		for _, k := range kernel {
			found, err := p.walkKernel(k, treeDir, pass == 0, want, have)
			if err != nil {
				return err
			}
			got = append(got, found...)
		}
		if pass == 0 && p.Request.Kernel == "" {
			return fmt.Errorf("%w: no kernel image (lib/modules/<release>/vmlinuz or boot/vmlinuz-<release>) in %s", ErrInput, strings.Join(base(kernel), ", "))
		}
		clear(want)
		if err := addDeps(got, have, want); err != nil {
			return err
		}
		if len(got) == 0 || len(want) == 0 {
			return nil
		}
	}
}

// addDeps marks the modules of paths as had and their missing
// dependencies as wanted.
func addDeps(paths []string, have, want map[string]bool) error {
	deps := map[string]bool{}
	for _, ko := range paths {
		data, err := readModule(ko)
		if err != nil {
			return fmt.Errorf("%w: %v", ErrInput, err)
		}
		name, ds, err := ModInfo(data)
		if err != nil {
			return fmt.Errorf("%w: %s: %v", ErrInput, filepath.Base(ko), err)
		}
		have[name] = true
		for _, d := range ds {
			deps[d] = true
		}
	}
	for d := range deps {
		if !have[d] {
			want[d] = true
		}
	}
	return nil
}

// walkKernel writes, from one kernel package, the image (on the first
// pass) and the in-tree modules named in want.
func (p *Prepared) walkKernel(pkgPath, treeDir string, first bool, want, have map[string]bool) ([]string, error) {
	pkg, err := rpm.Open(pkgPath)
	if err != nil {
		return nil, fmt.Errorf("%w: kernel package %s: %v", ErrInput, filepath.Base(pkgPath), err)
	}
	var got []string
	err = pkg.WalkPayload(func(f rpm.File, r io.Reader) error {
		if m := vmlinuzPath.FindStringSubmatch(f.Path); m != nil && first {
			rel := m[1] + m[2]
			if p.Release != "" && p.Release != rel {
				return fmt.Errorf("%w: kernel images of two releases, %s and %s", ErrInput, p.Release, rel)
			}
			p.Release = rel
			p.Request.Kernel = filepath.Join(treeDir, "vmlinuz-"+rel)
			return writeFile(p.Request.Kernel, r)
		}
		if !isModule(f.Path) || !strings.Contains(f.Path, "/lib/modules/") {
			return nil
		}
		if n := moduleName(f.Path); want[n] && !have[n] {
			out := filepath.Join(treeDir, "lib", strings.SplitN(f.Path, "/lib/", 2)[1])
			got = append(got, out)
			return writeFile(out, r)
		}
		return nil
	})
	return got, err
}

// extractModules writes the .ko files of packages under dir.
func extractModules(pkgs []string, dir string) ([]string, error) {
	var found []string
	for i, pp := range pkgs {
		pkg, err := rpm.Open(pp)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInput, filepath.Base(pp), err)
		}
		if pkg.IsSource() {
			continue
		}
		err = pkg.WalkPayload(func(f rpm.File, r io.Reader) error {
			if !isModule(f.Path) {
				return nil
			}
			out := filepath.Join(dir, fmt.Sprint(i), path.Base(f.Path))
			found = append(found, out)
			return writeFile(out, r)
		})
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInput, err)
		}
	}
	return found, nil
}

func isModule(p string) bool {
	for _, s := range []string{".ko", ".ko.xz", ".ko.zst", ".ko.gz"} {
		if strings.HasSuffix(p, s) {
			return true
		}
	}
	return false
}

func writeFile(p string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func base(ps []string) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = filepath.Base(p)
	}
	return out
}

// KmodResult is the boot's verdict on one kmod: loaded when the kernel
// loaded every module it ships.
type KmodResult struct {
	Name   string `json:"name"`
	Loaded bool   `json:"loaded"`
	// Reason is the kernel's word on the first module it refused.
	Reason  string         `json:"reason,omitempty"`
	Modules []ModuleResult `json:"modules"`
}

// KmodResults sums res up per kmod, in name order. A kmod whose module was
// never tried (the boot did not finish) is not loaded.
func (p *Prepared) KmodResults(res *Result) []KmodResult {
	names := make([]string, 0, len(p.Kmods))
	for n := range p.Kmods {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]KmodResult, 0, len(names))
	for _, n := range names {
		k := KmodResult{Name: n, Loaded: true}
		for _, m := range p.Kmods[n] {
			mr, ok := res.Module(m)
			if !ok {
				mr = ModuleResult{Name: m, Error: "not tried: the boot did not finish"}
			}
			k.Modules = append(k.Modules, mr)
			if !mr.Loaded && k.Loaded {
				k.Loaded, k.Reason = false, mr.Reason()
				if !ok {
					k.Reason = m + ": " + mr.Error
				}
			}
		}
		out = append(out, k)
	}
	return out
}
