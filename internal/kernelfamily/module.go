package kernelfamily

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// BuildModule compiles the out-of-tree module sources in srcDir (a Kbuild or
// Makefile with obj-m and the C files) against tree's headers with
// `make -C <headers> M=<outDir> modules` and returns the paths of the built
// .ko files. The sources are copied into outDir first, so srcDir is left
// untouched. extraSymvers are the Module.symvers files of other modules
// whose exports these modules use (KBUILD_EXTRA_SYMBOLS).
func BuildModule(ctx context.Context, tree *Tree, srcDir, outDir string, extraSymvers ...string) ([]string, error) {
	if err := copyDir(srcDir, outDir); err != nil {
		return nil, fmt.Errorf("module sources %s: %w", srcDir, err)
	}
	out, err := filepath.Abs(outDir)
	if err != nil {
		return nil, err
	}
	argv := []string{"make", "-C", tree.Headers(), "M=" + out}
	if len(extraSymvers) > 0 {
		argv = append(argv, "KBUILD_EXTRA_SYMBOLS="+strings.Join(extraSymvers, " "))
	}
	if err := command(ctx, "", append(argv, "modules")...); err != nil {
		return nil, fmt.Errorf("module %s for %s: %w", srcDir, tree.Release, err)
	}
	var kos []string
	err = filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".ko") {
			kos = append(kos, p)
		}
		return err
	})
	if err == nil && len(kos) == 0 {
		err = fmt.Errorf("module %s for %s: make succeeded but built no .ko", srcDir, tree.Release)
	}
	sort.Strings(kos)
	return kos, err
}

// copyDir copies the regular files and directories under src into dst.
func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		if !d.Type().IsRegular() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, data, 0o644)
	})
}
