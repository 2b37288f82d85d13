package demo

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// buildSRPM writes spec and sources into a private rpmbuild topdir under dir,
// runs rpmbuild -bs and moves the source package into dir.
func buildSRPM(dir, specName string, spec []byte, sources map[string][]byte) (string, error) {
	return buildSRPMFiles(dir, specName, spec, sources, nil)
}

// buildSRPMFiles is buildSRPM with further sources given as files (name in
// SOURCES → path), linked or copied in rather than read into memory. The
// source payload is stored uncompressed: large sources (packages, tarballs)
// are compressed already.
func buildSRPMFiles(dir, specName string, spec []byte, sources map[string][]byte, files map[string]string) (string, error) {
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
	for name, path := range files {
		if err := LinkOrCopy(path, filepath.Join(top, "SOURCES", name)); err != nil {
			return "", fmt.Errorf("make SRPM %s: source %s: %w", specName, name, err)
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
		"--define", "_source_payload w0.ufdio",
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

// LinkOrCopy hard-links src to dst, or copies it when they are on different
// file systems.
func LinkOrCopy(src, dst string) error {
	if os.Link(src, dst) == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
