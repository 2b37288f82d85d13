package build

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// unpackSRPM lays a source package out in an rpmbuild topdir: its sources in
// SOURCES, its spec in SPECS. It returns the spec's path.
func unpackSRPM(ctx context.Context, log *logSink, srpm, top string) (string, error) {
	for _, d := range []string{"SOURCES", "SPECS", "SRPMS", "RPMS", "BUILD", "BUILDROOT", "tmp"} {
		if err := os.MkdirAll(filepath.Join(top, d), 0o755); err != nil {
			return "", &InfraError{SRPM: srpm, Op: "make topdir", Err: err}
		}
	}
	sources := filepath.Join(top, "SOURCES")
	if err := unpackRPM(ctx, log, srpm, sources); err != nil {
		return "", err
	}
	spec, err := onlyFile(filepath.Join(sources, "*.spec"))
	if err != nil {
		return "", &PackageError{SRPM: srpm, Reason: err.Error()}
	}
	dst := filepath.Join(top, "SPECS", filepath.Base(spec))
	if err := os.Rename(spec, dst); err != nil {
		return "", &InfraError{SRPM: srpm, Op: "move spec", Err: err}
	}
	return dst, nil
}

// unpackRPM extracts a package's payload into dir with rpm2cpio and cpio.
func unpackRPM(ctx context.Context, log *logSink, pkg, dir string) error {
	abs, err := filepath.Abs(pkg)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", pkg, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("unpack %s: %w", pkg, err)
	}
	status, err := run(ctx, log, dir, "bash", "-o", "pipefail", "-c",
		`rpm2cpio "$1" | cpio -idmu --quiet --no-absolute-filenames`, "unpack", abs)
	if err != nil {
		return fmt.Errorf("unpack %s: %w", filepath.Base(pkg), err)
	}
	if status != 0 {
		return &exitError{step: "unpack " + filepath.Base(pkg), status: status}
	}
	return nil
}

// onlyFile returns the one file matching pattern.
func onlyFile(pattern string) (string, error) {
	m, err := filepath.Glob(pattern)
	if err != nil {
		return "", err
	}
	if len(m) != 1 {
		return "", fmt.Errorf("want one %s, found %d", filepath.Base(pattern), len(m))
	}
	return m[0], nil
}

// moveFile renames src to dst, copying when they are on different file
// systems.
func moveFile(src, dst string) error {
	err := os.Rename(src, dst)
	if err == nil {
		return nil
	}
	var le *os.LinkError
	if !errors.As(err, &le) {
		return err
	}
	if err := copyFile(src, dst); err != nil {
		return err
	}
	return os.Remove(src)
}

// copyFile copies src to a new file dst, readable by all.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
