package kabi

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/kabiforge/kabiforge/internal/infile"

	"go.yaml.in/yaml/v3"
)

// Action is what a policy does with a break.
type Action string

// Policy actions, weakest first.
const (
	// ActionIgnore accepts the break: the kmod counts as compatible.
	ActionIgnore Action = "ignore"
	// ActionFailKmod marks the kmod broken: its published build is rebuilt,
	// and a fresh build that still breaks fails. What every break did before
	// policies, and the default.
	ActionFailKmod Action = "fail-kmod"
	// ActionHoldGate marks the kmod broken and also holds the release for an
	// operator's approval, whatever the gate's conditions.
	ActionHoldGate Action = "hold-gate"
)

// strength orders actions; unknown ones count as the strongest.
func (a Action) strength() int {
	switch a {
	case "":
		return 0
	case ActionIgnore:
		return 1
	case ActionFailKmod:
		return 2
	}
	return 3
}

// Kinds lists every Kind Check reports.
var Kinds = []Kind{KindCRC, KindRemoved, KindGPLOnly, KindNamespace, KindVermagic, KindDepends}

// Rule decides the action for the breaks it matches. Empty fields match
// anything; globs take * (any run of characters, '/' included) and ? (one).
type Rule struct {
	// Symbol is a glob over the symbol name.
	Symbol string `yaml:"symbol" json:"symbol,omitempty"`
	// Module is a glob over the kernel module exporting the symbol
	// ("vmlinux", "drivers/scsi/libfc/libfc").
	Module string `yaml:"module" json:"module,omitempty"`
	// Namespace is a glob over the symbol's namespace.
	Namespace string `yaml:"namespace" json:"namespace,omitempty"`
	// Kmod is a glob over the kmod's name or the name of its refused module.
	Kmod string `yaml:"kmod" json:"kmod,omitempty"`
	// Kinds are the kinds of break matched; empty matches all.
	Kinds []Kind `yaml:"kinds" json:"kinds,omitempty"`
	// Action is what a matched break does.
	Action Action `yaml:"action" json:"action"`
}

// Policy decides, break by break, whether a change holds the release, fails
// only the kmod, or is accepted. The first matching rule wins; a break no
// rule matches takes Default. The zero Policy (and a nil *Policy) fails the
// kmod on every break, as before policies.
type Policy struct {
	Rules []Rule `yaml:"rules" json:"rules,omitempty"`
	// Default is the action of unmatched breaks; "" means fail-kmod.
	Default Action `yaml:"default" json:"default,omitempty"`
}

// Decide returns the action for break b of kmod.
func (p *Policy) Decide(kmod string, b Break) Action {
	if p != nil {
		for i := range p.Rules {
			if p.Rules[i].matches(kmod, b) {
				return p.Rules[i].Action
			}
		}
		if p.Default != "" {
			return p.Default
		}
	}
	return ActionFailKmod
}

func (r *Rule) matches(kmod string, b Break) bool {
	if len(r.Kinds) > 0 && !hasKind(r.Kinds, b.Kind) {
		return false
	}
	return glob(r.Symbol, b.Name) && glob(r.Module, b.Module) && glob(r.Namespace, b.Namespace) &&
		(glob(r.Kmod, kmod) || (b.Object != "" && glob(r.Kmod, b.Object)))
}

func hasKind(l []Kind, k Kind) bool {
	for _, x := range l {
		if x == k {
			return true
		}
	}
	return false
}

// Apply sets each break's action, the verdict's strongest action, and
// Compatible (no break left that is not ignored).
func (p *Policy) Apply(kmod string, v *Verdict) {
	v.Action = ""
	for _, l := range [][]Break{v.Mismatched, v.Missing, v.Refused} {
		for i := range l {
			l[i].Action = p.Decide(kmod, l[i])
			if l[i].Action.strength() > v.Action.strength() {
				v.Action = l[i].Action
			}
		}
	}
	v.Compatible = v.Action.strength() <= ActionIgnore.strength()
}

// FieldError is one problem of a policy, at a field such as rules[2].action.
type FieldError struct {
	Field string
	Msg   string
}

func (e FieldError) Error() string { return e.Field + ": " + e.Msg }

// Problems lists every rule with an unknown action or kind, or a malformed
// glob, each at its field.
func (p *Policy) Problems() []FieldError {
	const actions = "(want hold-gate, fail-kmod or ignore)"
	var out []FieldError
	if p.Default != "" && !validAction(p.Default) {
		out = append(out, FieldError{"default", fmt.Sprintf("unknown action %q %s", p.Default, actions)})
	}
	for i, r := range p.Rules {
		at := fmt.Sprintf("rules[%d].", i)
		if !validAction(r.Action) {
			out = append(out, FieldError{at + "action", fmt.Sprintf("unknown action %q %s", r.Action, actions)})
		}
		for _, k := range r.Kinds {
			if !hasKind(Kinds, k) {
				out = append(out, FieldError{at + "kinds", fmt.Sprintf("unknown kind %q (want one of %v)", k, Kinds)})
			}
		}
		for _, g := range [][2]string{{"symbol", r.Symbol}, {"module", r.Module}, {"namespace", r.Namespace}, {"kmod", r.Kmod}} {
			if err := checkGlob(g[1]); err != nil {
				out = append(out, FieldError{at + g[0], err.Error()})
			}
		}
	}
	return out
}

// Validate returns the policy's Problems as one error, nil when none.
func (p *Policy) Validate() error {
	var errs []error
	for _, e := range p.Problems() {
		errs = append(errs, e)
	}
	return errors.Join(errs...)
}

func validAction(a Action) bool {
	return a == ActionIgnore || a == ActionFailKmod || a == ActionHoldGate
}

// ParsePolicy reads a policy in YAML (the keys of Policy and Rule; unknown
// keys are errors) and validates it. name is used in errors.
func ParsePolicy(r io.Reader, name string) (*Policy, error) {
	data, err := readText(r, name)
	if err != nil {
		return nil, err
	}
	var p Policy
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&p); err != nil && err != io.EOF {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if err := p.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	return &p, nil
}

// ReadPolicyFile reads a policy file (see ParsePolicy).
func ReadPolicyFile(path string) (*Policy, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParsePolicy(f, path)
}

// checkGlob accepts any printable pattern without spaces; "" matches all.
func checkGlob(g string) error {
	if g == "" {
		return nil
	}
	return checkName("glob", g)
}

// glob reports whether s matches pattern: * is any run of characters, ?
// one character, anything else itself. An empty pattern matches anything.
func glob(pattern, s string) bool {
	if pattern == "" {
		return true
	}
	px, sx := 0, 0
	star, mark := -1, 0 // position after the last *, and where it matched from
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px+1, sx
			px++
		case star >= 0:
			mark++
			px, sx = star, mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}
