package demo

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildSRPM writes spec and sources into a private rpmbuild topdir under dir,
// runs rpmbuild -bs and moves the source package into dir.
func buildSRPM(dir, specName string, spec []byte, sources map[string][]byte) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("make SRPM: %w", err)
	}
	top, err := os.MkdirTemp(dir, ".topdir-")
	if err != nil {
		return "", fmt.Errorf("make SRPM %s: %w", specName, err)
	}
	defer os.RemoveAll(top)
	for _, d := range []string{"SOURCES", "SPECS", "SRPMS", "tmp"} {
		if err := os.Mkdir(filepath.Join(top, d), 0o755); err != nil {
			return "", fmt.Errorf("make SRPM %s: %w", specName, err)
		}
	}
	for name, data := range sources {
		if err := os.WriteFile(filepath.Join(top, "SOURCES", name), data, 0o644); err != nil {
			return "", fmt.Errorf("make SRPM %s: %w", specName, err)
		}
	}
	specPath := filepath.Join(top, "SPECS", specName)
	if err := os.WriteFile(specPath, spec, 0o644); err != nil {
		return "", fmt.Errorf("make SRPM %s: %w", specName, err)
	}
	cmd := exec.Command("rpmbuild", "-bs", "--nodeps",
		"--define", "_topdir "+top,
		"--define", "_tmppath "+filepath.Join(top, "tmp"),
		"--define", "dist .el8",
		specPath)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("rpmbuild -bs %s: %w\n%s", specName, err, strings.TrimSpace(string(out)))
	}
	built, err := filepath.Glob(filepath.Join(top, "SRPMS", "*.src.rpm"))
	if err != nil || len(built) != 1 {
		return "", fmt.Errorf("rpmbuild -bs %s: want one SRPM, found %v\n%s", specName, built, out)
	}
	dst := filepath.Join(dir, filepath.Base(built[0]))
	if err := os.Rename(built[0], dst); err != nil {
		return "", fmt.Errorf("make SRPM %s: %w", specName, err)
	}
	return dst, nil
}

// SRPM builds a source package from a spec (named specName) and its sources
// into dir with rpmbuild -bs, and returns its path. Tests use it for specs of
// their own.
func SRPM(dir, specName string, spec []byte, sources map[string][]byte) (string, error) {
	return buildSRPM(dir, specName, spec, sources)
}
