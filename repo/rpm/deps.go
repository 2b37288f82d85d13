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

// Raw dependency flag bits that say a Requires is needed before install.
const (
	sensePostTrans  = 1 << 5
	sensePrereq     = 1 << 6
	sensePreTrans   = 1 << 7
	senseScriptPre  = 1 << 9
	senseScriptPost = 1 << 10
	senseScriptPreU = 1 << 11
	senseScriptPstU = 1 << 12
	senseRPMLib     = 1 << 24
	senseKeyring    = 1 << 26
	installOnlyMask = senseScriptPre | senseScriptPost | senseRPMLib | senseKeyring | sensePreTrans | sensePostTrans
	allRequiresMask = 0x1 | 1<<4 | sensePrereq | installOnlyMask | senseScriptPreU | senseScriptPstU | 1<<8 | 1<<13 | 1<<14 | 1<<15 | 1<<16 | 1<<17 | 1<<18 | 1<<25 | 1<<28
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

// isPre reports whether a Requires is a pre-install requirement, by the same
// rule createrepo_c applies (legacy PreReq or an install-only script bit).
func isPre(raw uint32) bool {
	return raw&allRequiresMask == sensePrereq || raw&installOnlyMask != 0
}
