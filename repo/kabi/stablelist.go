package kabi

import (
	"bytes"
	"io"
	"sort"
	"strings"
)

// Stablelist is the set of symbols Red Hat promises to keep stable, read
// from a kabi_stablelist_<arch> (earlier kabi_whitelist_<arch>) file or
// derived from a Module.kabi_<arch> file.
type Stablelist struct {
	// Name says where the list came from.
	Name string
	// Sections are the list's section headers, e.g. "rhel9_x86_64_stablelist".
	Sections []string
	syms     map[string]struct{}
}

// NewStablelist returns an empty stablelist named name.
func NewStablelist(name string) *Stablelist {
	return &Stablelist{Name: name, syms: make(map[string]struct{})}
}

// Add puts sym on the list.
func (l *Stablelist) Add(sym string) { l.syms[sym] = struct{}{} }

// Contains reports whether sym is on the list.
func (l *Stablelist) Contains(sym string) bool {
	_, ok := l.syms[sym]
	return ok
}

// Len returns the number of symbols on the list.
func (l *Stablelist) Len() int { return len(l.syms) }

// Symbols returns the list's symbols, sorted.
func (l *Stablelist) Symbols() []string {
	out := make([]string, 0, len(l.syms))
	for s := range l.syms {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// ParseStablelist reads a stablelist file:
//
//	[rhel9_x86_64_stablelist]
//		symbol_one
//		symbol_two
//
// Section headers are bracketed; each symbol line is indented by a TAB (or
// spaces) and holds one symbol. Blank lines are allowed; anything else, and
// symbols before the first header, is an error naming the line.
func ParseStablelist(r io.Reader, name string) (*Stablelist, error) {
	l := NewStablelist(name)
	err := eachLine(r, name, func(n int, line string) error {
		switch {
		case strings.TrimSpace(line) == "":
			return nil
		case line[0] == '[':
			sec, ok := strings.CutSuffix(line[1:], "]")
			if !ok || sec == "" || strings.ContainsAny(sec, "[] \t") {
				return parseErr(name, n, "malformed section header %q, want [name]", line)
			}
			l.Sections = append(l.Sections, sec)
			return nil
		case line[0] != '\t' && line[0] != ' ':
			return parseErr(name, n, "symbol line %q must be indented by a TAB", line)
		}
		if len(l.Sections) == 0 {
			return parseErr(name, n, "symbol before the first [section] header")
		}
		f := strings.Fields(line)
		if len(f) != 1 {
			return parseErr(name, n, "want one symbol per line, got %d words", len(f))
		}
		if err := checkName("symbol", f[0]); err != nil {
			return parseErr(name, n, "%v", err)
		}
		l.Add(f[0])
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(l.Sections) == 0 {
		return nil, parseErr(name, 1, "no [section] header: not a stablelist")
	}
	return l, nil
}

// ReadStablelist reads a stablelist file (see ParseStablelist). A file in
// Module.symvers format (a Module.kabi_<arch>) is also accepted: its symbols
// are the list.
func ReadStablelist(path string) (*Stablelist, error) {
	data, err := readTextFile(path)
	if err != nil {
		return nil, err
	}
	if bytes.HasPrefix(data, []byte("0x")) {
		abi, err := parseSymvers(data, path)
		if err != nil {
			return nil, err
		}
		return abi.AsStablelist(), nil
	}
	return ParseStablelist(bytes.NewReader(data), path)
}
