package boot

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
)

// ModInfo reads a module's name and the modules it depends on from the
// .modinfo section of an uncompressed .ko (name= and depends=, which
// modpost writes from the symbols the module takes from other modules).
func ModInfo(data []byte) (name string, depends []string, err error) {
	defer func() { // debug/elf can panic on hostile input
		if v := recover(); v != nil {
			err = fmt.Errorf("corrupt ELF file: %v", v)
		}
	}()
	f, err := elf.NewFile(bytes.NewReader(data))
	if err != nil {
		return "", nil, fmt.Errorf("not an ELF kernel module: %w", err)
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return "", nil, fmt.Errorf("no .modinfo section")
	}
	raw, err := sec.Data()
	if err != nil {
		return "", nil, fmt.Errorf("read .modinfo: %w", err)
	}
	for _, kv := range bytes.Split(raw, []byte{0}) {
		k, v, _ := strings.Cut(string(kv), "=")
		switch k {
		case "name":
			name = v
		case "depends":
			for _, d := range strings.Split(v, ",") {
				if d != "" {
					depends = append(depends, d)
				}
			}
		}
	}
	if name == "" {
		return "", nil, fmt.Errorf(".modinfo has no name=")
	}
	return name, depends, nil
}

// moduleName is the kernel's name for a module file: its base name without
// .ko and a compression suffix, '-' read as '_'.
func moduleName(path string) string {
	base := filepath.Base(path)
	if i := strings.Index(base, ".ko"); i >= 0 {
		base = base[:i]
	}
	return strings.ReplaceAll(base, "-", "_")
}

// Order returns the modules to load so that the kmods (paths of .ko files,
// compressed or not) load after their dependencies: each kmod's depends=,
// found among the kmods first and then in the kernel's in-tree modules
// under modulesDir (lib/modules/<release>), transitively. A dependency found
// in neither place is left out (built into the kernel, or missing, which
// the kernel then reports as unknown symbols). The result holds each module
// once, named by its .modinfo name.
func Order(kmods []string, modulesDir string) ([]Module, error) {
	o := orderer{byName: map[string]string{}, state: map[string]int{}}
	var roots []string
	for _, p := range kmods {
		data, err := readModule(p)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrInput, err)
		}
		name, _, err := ModInfo(data)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInput, p, err)
		}
		if prev, dup := o.byName[name]; dup {
			return nil, fmt.Errorf("%w: module %s in both %s and %s", ErrInput, name, prev, p)
		}
		o.byName[name] = p
		roots = append(roots, name)
	}
	if modulesDir != "" {
		err := filepath.WalkDir(modulesDir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if !d.IsDir() && strings.Contains(d.Name(), ".ko") {
				if n := moduleName(p); o.byName[n] == "" {
					o.byName[n] = p
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("in-tree modules: %w", err)
		}
	}
	for _, r := range roots {
		if err := o.visit(r); err != nil {
			return nil, err
		}
	}
	return o.out, nil
}

type orderer struct {
	byName map[string]string
	state  map[string]int // 1 visiting, 2 done
	out    []Module
}

func (o *orderer) visit(name string) error {
	switch o.state[name] {
	case 1:
		return fmt.Errorf("%w: dependency cycle through module %s", ErrInput, name)
	case 2:
		return nil
	}
	p, ok := o.byName[name]
	if !ok {
		o.state[name] = 2 // built in, or missing: the kernel will say
		return nil
	}
	o.state[name] = 1
	data, err := readModule(p)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrInput, err)
	}
	_, deps, err := ModInfo(data)
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInput, p, err)
	}
	for _, d := range deps {
		if err := o.visit(d); err != nil {
			return err
		}
	}
	o.state[name] = 2
	o.out = append(o.out, Module{Name: name, Path: p})
	return nil
}
