// Package kernelnvr parses the name-version-release of RHEL kernels
// (kernel-4.18.0-477.27.1.el8_8), tells which minor release of RHEL each
// belongs to, and selects the kernels of a tracked stream in rpm's version
// order.
package kernelnvr

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// DefaultName is the package name Parse assumes for a bare version-release.
const DefaultName = "kernel"

// maxLen bounds what Parse accepts; real kernel NVRs are under 64 bytes.
const maxLen = 256

// ErrSyntax is wrapped by every error Parse returns.
var ErrSyntax = errors.New("not a kernel NVR")

// NVR is one kernel build: name-version-release, e.g.
// kernel-5.14.0-362.8.1.el9_3.
type NVR struct {
	// Name is the package name ("kernel", "kernel-rt", ...).
	Name string
	// Version is the upstream version, e.g. "4.18.0".
	Version string
	// Release is e.g. "477.27.1.el8_8".
	Release string
	// Build is the release's first number: the RHEL kernel build the
	// z-stream updates branch from (477 in 477.27.1.el8_8).
	Build int
	// Major is the RHEL major release of the dist tag (8 for .el8_8), 0
	// when the release has no .elN tag.
	Major int
	// DistMinor is the minor release the dist tag names (8 for .el8_8), -1
	// when the tag has none (.el8, the GA builds and all of RHEL 7).
	DistMinor int
}

// Parse reads "kernel-4.18.0-477.27.1.el8_8" or a bare version-release
// "4.18.0-477.27.1.el8_8" (Name is then DefaultName). A trailing
// ".src.rpm", ".rpm" or ".<arch>" is not accepted: strip it first.
func Parse(s string) (NVR, error) {
	if len(s) > maxLen {
		return NVR{}, fmt.Errorf("%w: %d bytes, longer than %d", ErrSyntax, len(s), maxLen)
	}
	n, err := split(s)
	if err != nil {
		return NVR{}, fmt.Errorf("%q: %w", s, err)
	}
	return n, nil
}

func split(s string) (NVR, error) {
	i := strings.LastIndexByte(s, '-')
	if i < 0 {
		return NVR{}, fmt.Errorf("%w: no '-' between version and release", ErrSyntax)
	}
	n := NVR{Name: DefaultName, Version: s[:i], Release: s[i+1:], DistMinor: -1}
	if j := strings.LastIndexByte(n.Version, '-'); j >= 0 {
		n.Name, n.Version = n.Version[:j], n.Version[j+1:]
		if err := checkName(n.Name); err != nil {
			return NVR{}, err
		}
	}
	if err := checkVersion(n.Version); err != nil {
		return NVR{}, err
	}
	if err := n.parseRelease(); err != nil {
		return NVR{}, err
	}
	return n, nil
}

// checkName accepts package names as rpm spells them: letters, digits and
// "._+-", not starting with "-".
func checkName(name string) error {
	if name == "" || name[0] == '-' {
		return fmt.Errorf("%w: name %q", ErrSyntax, name)
	}
	for _, c := range name {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.ContainsRune("._+-", c)) {
			return fmt.Errorf("%w: name %q holds %q", ErrSyntax, name, c)
		}
	}
	return nil
}

func checkVersion(v string) error {
	parts := strings.Split(v, ".")
	if len(parts) < 2 {
		return fmt.Errorf("%w: version %q is not dotted numbers", ErrSyntax, v)
	}
	for _, p := range parts {
		if _, err := number(p); err != nil {
			return fmt.Errorf("%w: version %q is not dotted numbers", ErrSyntax, v)
		}
	}
	return nil
}

func (n *NVR) parseRelease() error {
	for _, c := range n.Release {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '+' || c == '~' || c == '^') {
			return fmt.Errorf("%w: release %q holds %q", ErrSyntax, n.Release, c)
		}
	}
	fields := strings.Split(n.Release, ".")
	build, err := number(fields[0])
	if err != nil {
		return fmt.Errorf("%w: release %q does not start with a build number", ErrSyntax, n.Release)
	}
	n.Build = build
	for _, f := range fields[1:] {
		major, minor, ok := distTag(f)
		if ok {
			n.Major, n.DistMinor = major, minor
			break
		}
	}
	return nil
}

// distTag reads "el8" or "el8_10".
func distTag(f string) (major, minor int, ok bool) {
	rest, found := strings.CutPrefix(f, "el")
	if !found {
		return 0, 0, false
	}
	ma, mi, hasMinor := strings.Cut(rest, "_")
	major, err := number(ma)
	if err != nil || major == 0 {
		return 0, 0, false
	}
	if !hasMinor {
		return major, -1, true
	}
	minor, err = number(mi)
	if err != nil {
		return 0, 0, false
	}
	return major, minor, true
}

// number parses a non-empty run of at most 9 decimal digits.
func number(s string) (int, error) {
	if s == "" || len(s) > 9 {
		return 0, strconv.ErrSyntax
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.Atoi(s)
}

// String returns name-version-release.
func (n NVR) String() string { return n.Name + "-" + n.Version + "-" + n.Release }

// VR returns version-release, e.g. "4.18.0-477.27.1.el8_8".
func (n NVR) VR() string { return n.Version + "-" + n.Release }

// Compare orders a and b as rpm does: by name, then by version and release
// with rpm's vercmp. It returns -1, 0 or 1.
func Compare(a, b NVR) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	return rpm.CompareEVR("", a.Version, a.Release, "", b.Version, b.Release)
}
