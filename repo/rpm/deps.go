package rpm

import "strings"

// Flags are the comparison bits of a dependency: LT, GT and EQ, with rpm's
// generator and script bits masked off.
type Flags uint32

// Comparison bits of a dependency.
const (
	LT Flags = 1 << 1
	GT Flags = 1 << 2
	EQ Flags = 1 << 3
)

// String names the comparison as rpm-md does: LT, GT, EQ, LE, GE, or "" for none.
func (f Flags) String() string {
	switch f & (LT | GT | EQ) {
	case LT:
		return "LT"
	case GT:
		return "GT"
	case EQ:
		return "EQ"
	case LT | EQ:
		return "LE"
	case GT | EQ:
		return "GE"
	}
	return ""
}

// Operator formats the comparison as in a spec file: <, >, =, <=, >=.
func (f Flags) Operator() string {
	switch f & (LT | GT | EQ) {
	case LT:
		return "<"
	case GT:
		return ">"
	case EQ:
		return "="
	case LT | EQ:
		return "<="
	case GT | EQ:
		return ">="
	}
	return ""
}

// Raw dependency flag bits that mark a Requires needed before install.
const (
	sensePrereq     = 1 << 6
	senseScriptPre  = 1 << 9
	senseScriptPost = 1 << 10
)

// Dep is one dependency: a name and, when versioned, a comparison with an
// epoch, version and release.
type Dep struct {
	Name    string
	Flags   Flags
	Epoch   string
	Version string
	Release string
	// Pre is set on Requires that must be satisfied before the package's
	// scripts run (rpm-md's pre="1").
	Pre bool
	// RawFlags keeps every bit rpm stored, generator bits included.
	RawFlags uint32
}

// String formats the dependency as rpm prints it: "name op [epoch:]version[-release]".
func (d Dep) String() string {
	if d.Flags == 0 || d.Version == "" && d.Epoch == "" {
		return d.Name
	}
	return d.Name + " " + d.Flags.Operator() + " " + d.EVR()
}

// EVR formats the dependency's [epoch:]version[-release].
func (d Dep) EVR() string {
	s := d.Version
	if d.Epoch != "" {
		s = d.Epoch + ":" + s
	}
	if d.Release != "" {
		s += "-" + d.Release
	}
	return s
}

// parseEVR splits "[epoch:]version[-release]" as rpm stores a dependency's version.
func parseEVR(s string) (epoch, version, release string) {
	if e, rest, ok := strings.Cut(s, ":"); ok {
		epoch, s = e, rest
	}
	if i := strings.LastIndexByte(s, '-'); i >= 0 {
		return epoch, s[:i], s[i+1:]
	}
	return epoch, s, ""
}

func makeDeps(names, versions []string, flags []uint32, requires bool) []Dep {
	deps := make([]Dep, 0, len(names))
	for i, name := range names {
		d := Dep{Name: name}
		if i < len(flags) {
			d.RawFlags = flags[i]
			d.Flags = Flags(flags[i]) & (LT | GT | EQ)
		}
		if i < len(versions) && versions[i] != "" {
			d.Epoch, d.Version, d.Release = parseEVR(versions[i])
		}
		if requires {
			d.Pre = isPre(d.RawFlags)
		}
		deps = append(deps, d)
	}
	return deps
}

// isPre reports whether a Requires is a pre-install requirement, by the rule
// createrepo_c 0.17 applies: PreReq, Requires(pre) or Requires(post).
func isPre(raw uint32) bool {
	return raw&(sensePrereq|senseScriptPre|senseScriptPost) != 0
}

// ParseFlags reads a comparison as rpm-md writes it (EQ, LT, GT, LE, GE,
// or "" for none); anything else is no comparison.
func ParseFlags(s string) Flags {
	for _, f := range []Flags{LT, GT, EQ, LT | EQ, GT | EQ} {
		if f.String() == s {
			return f
		}
	}
	return 0
}

// Overlaps reports whether two dependencies of the same name overlap, by
// rpm's rule (rpmdsCompare): a Provides satisfies a Requires exactly when
// they overlap. A side with no comparison or no version matches any
// version; otherwise the ranges are compared by CompareEVR (an empty
// release matches any release). CRCs in kernel(sym) dependencies are
// versions like any other: "0xAB" and "0xab" differ, as rpm says.
func Overlaps(a, b Dep) bool {
	if a.Name != b.Name {
		return false
	}
	af, bf := a.Flags&(LT|GT|EQ), b.Flags&(LT|GT|EQ)
	if af == 0 || bf == 0 || a.EVR() == "" || b.EVR() == "" {
		return true
	}
	switch c := CompareEVR(a.Epoch, a.Version, a.Release, b.Epoch, b.Version, b.Release); {
	case c < 0:
		return af&GT != 0 || bf&LT != 0
	case c > 0:
		return af&LT != 0 || bf&GT != 0
	default:
		return af&bf != 0
	}
}
