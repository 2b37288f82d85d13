// Package kernelfamily fetches real kernel builds of one Debian kernel line
// (the "real kernel family": Debian 12's 6.1 cloud kernels, one ABI per
// 6.1.0-N) and prepares them for tests and the demo: a kernel image, its
// in-tree modules and a kbuild-ready headers directory that out-of-tree
// modules compile against.
//
// Packages are downloaded with the host's apt-get into a cache outside the
// repository (os.UserCacheDir()/kabiforge), extracted once with dpkg-deb into
// a tree that is cached beside them, and shared safely by concurrent test
// processes: every step holds a lock file and publishes its result by rename.
package kernelfamily

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// Flavour is the Debian kernel flavour the family uses.
const Flavour = "cloud-amd64"

// Tree is one ABI of the family, extracted into a directory.
type Tree struct {
	// ABI is the Debian kernel ABI, e.g. "6.1.0-47".
	ABI string
	// Release is the kernel's uname -r, e.g. "6.1.0-47-cloud-amd64".
	Release string
	// Version is the Debian package version of the image, e.g. "6.1.170-3".
	Version string
	// Root is the directory the packages were extracted into.
	Root string
	// Debs are the package files the tree was extracted from.
	Debs []string
}

// Vmlinuz is the path of the compressed kernel image.
func (t *Tree) Vmlinuz() string { return filepath.Join(t.Root, "boot", "vmlinuz-"+t.Release) }

// SystemMap is the path of the kernel's System.map.
func (t *Tree) SystemMap() string { return filepath.Join(t.Root, "boot", "System.map-"+t.Release) }

// Config is the path of the kernel's build configuration.
func (t *Tree) Config() string { return filepath.Join(t.Root, "boot", "config-"+t.Release) }

// ModulesDir is the kernel's in-tree modules directory, lib/modules/<release>.
func (t *Tree) ModulesDir() string { return filepath.Join(t.Root, "lib", "modules", t.Release) }

// Headers is the kbuild-ready headers directory: `make -C Headers M=dir
// modules` builds an out-of-tree module against this ABI.
func (t *Tree) Headers() string {
	return filepath.Join(t.Root, "usr", "src", "linux-headers-"+t.Release)
}

// CommonHeaders is the architecture-independent headers directory the
// flavour's Headers include.
func (t *Tree) CommonHeaders() string {
	return filepath.Join(t.Root, "usr", "src", "linux-headers-"+t.ABI+"-common")
}

// Kbuild is the directory of the kbuild scripts and host tools.
func (t *Tree) Kbuild() string {
	return filepath.Join(t.Root, "usr", "lib", "linux-kbuild-"+majorMinor(t.ABI))
}

// Symvers is the path of the ABI's Module.symvers.
func (t *Tree) Symvers() string { return filepath.Join(t.Headers(), "Module.symvers") }

var abiRE = regexp.MustCompile(`^(\d+\.\d+)\.\d+-\d+$`)

// ValidABI reports whether abi has the form of a Debian kernel ABI, such as
// "6.1.0-47".
func ValidABI(abi string) error {
	if !abiRE.MatchString(abi) {
		return fmt.Errorf("kernel ABI %q: want the form 6.1.0-47", abi)
	}
	return nil
}

// Release returns the uname -r of abi in the family's flavour.
func Release(abi string) string { return abi + "-" + Flavour }

// Packages returns the names of the Debian packages one ABI is made of:
// the unsigned image, the flavour's and the common headers, and kbuild.
func Packages(abi string) []string {
	return []string{
		"linux-image-" + Release(abi) + "-unsigned",
		"linux-headers-" + Release(abi),
		"linux-headers-" + abi + "-common",
		"linux-kbuild-" + majorMinor(abi),
	}
}

func majorMinor(abi string) string {
	if m := abiRE.FindStringSubmatch(abi); m != nil {
		return m[1]
	}
	return abi
}

// debVersion returns the version field of a .deb file name
// (name_version_arch.deb), with apt's %3a decoded.
func debVersion(path string) string {
	parts := strings.Split(strings.TrimSuffix(filepath.Base(path), ".deb"), "_")
	if len(parts) != 3 {
		return ""
	}
	return strings.ReplaceAll(parts[1], "%3a", ":")
}

// DefaultCacheDir is os.UserCacheDir()/kabiforge, where a Fetcher keeps its
// packages and trees unless told otherwise.
func DefaultCacheDir() (string, error) {
	dir, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("kernel family cache: %w", err)
	}
	return filepath.Join(dir, "kabiforge"), nil
}
