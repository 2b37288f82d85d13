package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"
)

//go:embed sourcekernel/kernel.spec
var sourceKernelSpecText string

//go:embed sourcekernel/minimal.config
var sourceKernelConfig []byte

var sourceKernelSpec = template.Must(template.New("kernel.spec").Parse(sourceKernelSpecText))

// LinuxSourcePackage is the Debian package whose kernel source tarball the
// source kernel compiles.
const LinuxSourcePackage = "linux-source-6.1"

// LinuxSource is a kernel source tarball as Debian's linux-source-<series>
// package installs it.
type LinuxSource struct {
	// Tarball is the path of linux-source-<series>.tar.xz.
	Tarball string
	// Series is the kernel series the package is named for, e.g. "6.1".
	Series string
	// DebVersion is the package's version, e.g. "6.1.192-3".
	DebVersion string
}

// Version is the kernel version of the sources, the Debian version's
// upstream part: "6.1.192" for "6.1.192-3".
func (s LinuxSource) Version() string {
	v, _, _ := strings.Cut(s.DebVersion, "-")
	return v
}

var debVersionRE = regexp.MustCompile(`^[0-9]+\.[0-9]+\.[0-9]+-[0-9A-Za-z.+~]+$`)

// FindLinuxSource returns the installed linux-source-6.1 package's tarball
// and version, asking dpkg-query.
func FindLinuxSource(ctx context.Context) (LinuxSource, error) {
	series := strings.TrimPrefix(LinuxSourcePackage, "linux-source-")
	out, err := exec.CommandContext(ctx, "dpkg-query", "-W", "-f", "${Status}\t${Version}", LinuxSourcePackage).Output()
	if err != nil {
		return LinuxSource{}, fmt.Errorf("%s: dpkg-query: %w (install it: apt-get install %s)", LinuxSourcePackage, err, LinuxSourcePackage)
	}
	status, version, _ := strings.Cut(string(out), "\t")
	if !strings.HasSuffix(status, " installed") || !debVersionRE.MatchString(version) {
		return LinuxSource{}, fmt.Errorf("%s: not installed (status %q, version %q)", LinuxSourcePackage, status, version)
	}
	s := LinuxSource{Tarball: filepath.Join("/usr/src", LinuxSourcePackage+".tar.xz"), Series: series, DebVersion: version}
	if _, err := os.Stat(s.Tarball); err != nil {
		return LinuxSource{}, fmt.Errorf("%s %s: %w", LinuxSourcePackage, version, err)
	}
	return s, nil
}

// SourceKernel describes an EL-style kernel source package that compiles
// Debian's kernel sources with a minimal configuration
// (sourcekernel/minimal.config over tinyconfig) into kernel-core and
// kernel-devel, with module versions and signatures on and the module-signing
// certificate of the build (%pubkey) as the kernel's only trusted key. Its
// build needs the build's module signing: without %pubkey the spec stops.
type SourceKernel struct {
	// Source is the tarball the package compiles.
	Source LinuxSource
	// Release is the package release before %{dist}, e.g. "1".
	Release string
}

// NVR returns the kernel's version-release as kmod_kernel_version spells it,
// e.g. "6.1.192-1.el8" for dist ".el8".
func (k SourceKernel) NVR(dist string) string {
	return k.Source.Version() + "-" + k.Release + dist
}

// Spec renders k's spec. With the tarball and minimal.config it determines
// what the source package builds (given the certificate), so callers may key
// caches by them.
func (k SourceKernel) Spec() ([]byte, error) {
	if !realReleaseRE.MatchString(k.Release) {
		return nil, fmt.Errorf("source kernel %s: release %q: want dot-separated numbers such as 1", k.Source.DebVersion, k.Release)
	}
	if !debVersionRE.MatchString(k.Source.DebVersion) || k.Source.Series == "" {
		return nil, fmt.Errorf("source kernel: linux-source %q version %q: want a series such as 6.1 and a version such as 6.1.192-3", k.Source.Series, k.Source.DebVersion)
	}
	var b bytes.Buffer
	err := sourceKernelSpec.Execute(&b, map[string]any{
		"Series": k.Source.Series, "DebVersion": k.Source.DebVersion, "Version": k.Source.Version(),
		"Release": k.Release, "Tarball": filepath.Base(k.Source.Tarball),
	})
	if err != nil {
		return nil, fmt.Errorf("render source kernel %s spec: %w", k.NVR(""), err)
	}
	return b.Bytes(), nil
}

// SourceKernelConfig is the configuration fragment the source kernel's
// build merges over tinyconfig.
func SourceKernelConfig() []byte { return bytes.Clone(sourceKernelConfig) }

// SourceKernelSRPM writes k's source package into dir and returns its path
// (dir/kernel-<version>-<release>.el8.src.rpm). It holds the tarball, the
// configuration fragment and the spec; no key or certificate.
func SourceKernelSRPM(dir string, k SourceKernel) (string, error) {
	spec, err := k.Spec()
	if err != nil {
		return "", err
	}
	return buildSRPMFiles(dir, "kernel.spec", spec,
		map[string][]byte{"minimal.config": sourceKernelConfig, "find-kabi-provides.sh": []byte(findKabiProvides)},
		map[string]string{filepath.Base(k.Source.Tarball): k.Source.Tarball})
}
