package kabi

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// ParseModulesList reads a kernel's module list: modules.dep ("kernel/a.ko:
// kernel/b.ko kernel/c.ko" per line) or modules.order / modules.builtin (one
// path per line). It returns the module names (ModuleName) the list ships,
// each once. name is used in errors.
func ParseModulesList(r io.Reader, name string) ([]string, error) {
	seen := map[string]bool{}
	var out []string
	err := eachLine(r, name, func(n int, line string) error {
		if strings.TrimSpace(line) == "" {
			return nil
		}
		path, deps, isDep := strings.Cut(line, ":")
		if strings.ContainsAny(path, " \t") {
			return parseErr(name, n, "module path %q contains a space", path)
		}
		paths := []string{path}
		if isDep {
			paths = append(paths, strings.Fields(deps)...)
		}
		for _, p := range paths {
			if !isModulePath(p) {
				return parseErr(name, n, "%q is not a kernel module path (.ko, .ko.xz, .ko.zst, .ko.gz)", p)
			}
			if m := ModuleName(p); !seen[m] {
				seen[m] = true
				out = append(out, m)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ReadModulesDir records what a kernel's /lib/modules/<release> folder
// says about it: the names of the modules it ships (from modules.dep,
// modules.order and modules.builtin when present, else from the .ko files
// under it) and, unless already known, the vermagic of its first module.
func (a *ABI) ReadModulesDir(dir string) error {
	lists := 0
	for _, f := range []string{"modules.dep", "modules.order", "modules.builtin"} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if os.IsNotExist(err) {
			continue
		}
		if err != nil {
			return err
		}
		names, err := ParseModulesList(strings.NewReader(string(data)), filepath.Join(dir, f))
		if err != nil {
			return err
		}
		lists++
		for _, n := range names {
			a.AddModule(n)
		}
	}
	errFound := fmt.Errorf("found")
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() || !isModulePath(p) {
			return nil
		}
		if lists == 0 {
			a.AddModule(p)
		}
		if a.Vermagic == "" {
			m, err := ReadKernelModuleFile(p)
			if err != nil {
				return err
			}
			a.Vermagic = m.Info.Vermagic
		}
		if lists > 0 && a.Vermagic != "" {
			return errFound
		}
		return nil
	})
	if err != nil && err != errFound {
		return fmt.Errorf("read kernel modules in %s: %w", dir, err)
	}
	if a.modules == nil {
		return fmt.Errorf("%s: no kernel modules and no modules.dep or modules.order", dir)
	}
	return nil
}
