package rpm

import (
	"fmt"
	"strings"

	rpmutils "github.com/sassoftware/go-rpmutils"
)

// NEVRA names one package build: name, epoch, version, release and arch.
// Epoch is "" when the package carries no EPOCH tag; it is never forced to 0.
type NEVRA struct {
	Name, Epoch, Version, Release, Arch string
}

// String formats the NEVRA as name-[epoch:]version-release.arch, the way
// rpm and dnf print it.
func (n NEVRA) String() string {
	return n.Name + "-" + n.EVR() + "." + n.Arch
}

// NVR formats name-version-release, the usual way to name a kernel build.
func (n NEVRA) NVR() string {
	return n.Name + "-" + n.Version + "-" + n.Release
}

// EVR formats [epoch:]version-release.
func (n NEVRA) EVR() string {
	if n.Epoch != "" {
		return n.Epoch + ":" + n.Version + "-" + n.Release
	}
	return n.Version + "-" + n.Release
}

// Filename is the conventional file name of the package: name-version-release.arch.rpm
// (source packages use arch "src").
func (n NEVRA) Filename() string {
	return n.Name + "-" + n.Version + "-" + n.Release + "." + n.Arch + ".rpm"
}

// ParseNEVRA parses name-[epoch:]version-release.arch, with or without a
// trailing ".rpm".
func ParseNEVRA(s string) (NEVRA, error) {
	t := strings.TrimSuffix(s, ".rpm")
	dot := strings.LastIndexByte(t, '.')
	if dot < 0 {
		return NEVRA{}, fmt.Errorf("parse NEVRA %q: no arch", s)
	}
	n, err := ParseNEVR(t[:dot])
	if err != nil {
		return NEVRA{}, fmt.Errorf("parse NEVRA %q: %w", s, err)
	}
	n.Arch = t[dot+1:]
	if n.Arch == "" {
		return NEVRA{}, fmt.Errorf("parse NEVRA %q: empty arch", s)
	}
	if n.Arch == "rpm" { // x.rpm.rpm: no arch is named like the file suffix
		return NEVRA{}, fmt.Errorf("parse NEVRA %q: arch %q is the file suffix", s, n.Arch)
	}
	return n, nil
}

// ParseNEVR parses name-[epoch:]version-release.
func ParseNEVR(s string) (NEVRA, error) {
	r := strings.LastIndexByte(s, '-')
	if r <= 0 {
		return NEVRA{}, fmt.Errorf("parse NEVR %q: no release", s)
	}
	v := strings.LastIndexByte(s[:r], '-')
	if v <= 0 {
		return NEVRA{}, fmt.Errorf("parse NEVR %q: no version", s)
	}
	n := NEVRA{Name: s[:v], Version: s[v+1 : r], Release: s[r+1:]}
	if e, ver, ok := strings.Cut(n.Version, ":"); ok {
		if e == "" || strings.Trim(e, "0123456789") != "" || strings.Contains(ver, ":") {
			return NEVRA{}, fmt.Errorf("parse NEVR %q: epoch %q is not a number before one colon", s, e)
		}
		n.Epoch, n.Version = e, ver
	}
	if n.Version == "" || n.Release == "" {
		return NEVRA{}, fmt.Errorf("parse NEVR %q: empty version or release", s)
	}
	return n, nil
}

// Vercmp compares two version or release strings by rpm's rules (rpmvercmp):
// it returns -1, 0 or 1.
func Vercmp(a, b string) int {
	return rpmutils.Vercmp(a, b)
}

// CompareEVR compares two epoch-version-release triples by rpm's rules. An
// empty epoch counts as 0; an empty release on either side is ignored, as rpm
// does when a dependency names no release.
func CompareEVR(e1, v1, r1, e2, v2, r2 string) int {
	if c := Vercmp(orZero(e1), orZero(e2)); c != 0 {
		return c
	}
	if c := Vercmp(v1, v2); c != 0 {
		return c
	}
	if r1 == "" || r2 == "" {
		return 0
	}
	return Vercmp(r1, r2)
}

// Compare orders two NEVRAs by name, then EVR, then arch.
func Compare(a, b NEVRA) int {
	if c := strings.Compare(a.Name, b.Name); c != 0 {
		return c
	}
	if c := CompareEVR(a.Epoch, a.Version, a.Release, b.Epoch, b.Version, b.Release); c != 0 {
		return c
	}
	return strings.Compare(a.Arch, b.Arch)
}

func orZero(e string) string {
	if e == "" {
		return "0"
	}
	return e
}
