package kabi

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// KabiEntry is one block of a per-symbol kabi-module file: the symbol's
// symvers row and the minor releases it holds for.
type KabiEntry struct {
	Symbol Symbol
	// From is the first minor release the row holds for.
	From int
	// To is the last minor release, or -1 when the range is open-ended.
	To int
}

// Covers reports whether the entry holds for minor release minor.
func (e KabiEntry) Covers(minor int) bool {
	return minor >= e.From && (e.To < 0 || minor <= e.To)
}

// ParseKabiModule reads one per-symbol file of a RHEL kernel tree's
// redhat/kabi/kabi-module/kabi_<arch>/ directory: one or more blocks of a
// "#FROM-[TO]" line (e.g. "#6-": from minor 6 on) followed by one symvers row.
// sym is the expected symbol (the file's name); empty accepts any.
func ParseKabiModule(r io.Reader, name, sym string) ([]KabiEntry, error) {
	var out []KabiEntry
	pending := 0 // line of a range still waiting for its row
	var cur KabiEntry
	err := eachLine(r, name, func(n int, line string) error {
		switch {
		case strings.TrimSpace(line) == "":
			if pending != 0 {
				return parseErr(name, n, "blank line after the range at line %d, want a symvers row", pending)
			}
			return nil
		case strings.HasPrefix(line, "#"):
			if pending != 0 {
				return parseErr(name, n, "range %q follows the range at line %d without a symvers row", line, pending)
			}
			from, to, err := parseRange(line[1:])
			if err != nil {
				return parseErr(name, n, "%v", err)
			}
			cur = KabiEntry{From: from, To: to}
			pending = n
			return nil
		}
		if pending == 0 {
			return parseErr(name, n, "symvers row without a preceding #FROM-TO range line")
		}
		s, err := parseSymversRow(line)
		if err != nil {
			return parseErr(name, n, "%v", err)
		}
		if sym != "" && s.Name != sym {
			return parseErr(name, n, "row is for symbol %s, but the file is named for %s", s.Name, sym)
		}
		s.Stablelisted = true
		cur.Symbol = s
		out = append(out, cur)
		pending = 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	if pending != 0 {
		return nil, parseErr(name, pending, "range without a symvers row at end of file")
	}
	if len(out) == 0 {
		return nil, parseErr(name, 1, "no #FROM-TO range and symvers row")
	}
	return out, nil
}

// parseRange parses "FROM-" or "FROM-TO" (decimal minor releases).
func parseRange(s string) (from, to int, err error) {
	a, b, ok := strings.Cut(s, "-")
	if !ok {
		return 0, 0, fmt.Errorf("range %q: want #FROM- or #FROM-TO", "#"+s)
	}
	if from, err = parseMinor(a); err != nil {
		return 0, 0, fmt.Errorf("range %q: %v", "#"+s, err)
	}
	to = -1
	if b != "" {
		if to, err = parseMinor(b); err != nil {
			return 0, 0, fmt.Errorf("range %q: %v", "#"+s, err)
		}
		if to < from {
			return 0, 0, fmt.Errorf("range %q ends before it starts", "#"+s)
		}
	}
	return from, to, nil
}

func parseMinor(s string) (int, error) {
	if s == "" || len(s) > 4 || strings.TrimLeft(s, "0123456789") != "" {
		return 0, fmt.Errorf("minor release %q is not a number", s)
	}
	return strconv.Atoi(s)
}

// KabiModuleDir is the content of a kabi-module/kabi_<arch> directory: per
// symbol, the rows and the minor releases they hold for.
type KabiModuleDir map[string][]KabiEntry

// ReadKabiModuleDir reads every file of dir as a per-symbol kabi-module file
// named for its symbol. Subdirectories and dot files are ignored.
func ReadKabiModuleDir(dir string) (KabiModuleDir, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	out := make(KabiModuleDir, len(ents))
	for _, e := range ents {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		p := filepath.Join(dir, e.Name())
		f, err := infile.Open(p)
		if err != nil {
			return nil, err
		}
		entries, err := ParseKabiModule(f, p, e.Name())
		f.Close()
		if err != nil {
			return nil, err
		}
		out[e.Name()] = entries
	}
	return out, nil
}

// ABI returns the stablelisted ABI of minor release minor: for each symbol,
// the row whose range covers minor. Symbols with no such row are left out.
func (d KabiModuleDir) ABI(name string, minor int) *ABI {
	abi := NewABI(name)
	names := make([]string, 0, len(d))
	for sym := range d {
		names = append(names, sym)
	}
	sort.Strings(names)
	for _, sym := range names {
		for _, e := range d[sym] {
			if e.Covers(minor) {
				_ = abi.Add(e.Symbol) // one row per symbol: cannot conflict
				break
			}
		}
	}
	abi.SetStablelist(abi.AsStablelist())
	return abi
}
