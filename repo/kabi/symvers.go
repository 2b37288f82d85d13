package kabi

import (
	"bytes"
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"
)

// ParseSymvers reads a Module.symvers or Module.kabi_<arch> file:
//
//	0xCRC<TAB>symbol<TAB>module<TAB>EXPORT_SYMBOL[_GPL][<TAB>namespace]
//
// Four columns (3.10, 4.18) or five (5.x, namespace last and often empty) are
// accepted, and the 5.4–5.9 order with the namespace third. Some RHEL 7 lists
// separate columns by spaces; a line without TAB is split on spaces. The module
// column may be a path. name is used in errors.
func ParseSymvers(r io.Reader, name string) (*ABI, error) {
	data, err := readText(r, name)
	if err != nil {
		return nil, err
	}
	return parseSymvers(data, name)
}

// parseSymvers is ParseSymvers of data already in memory.
func parseSymvers(data []byte, name string) (*ABI, error) {
	rows := bytes.Count(data, []byte{'\n'}) + 1
	abi := newABI(name, rows)
	lineOf := make([]int, 0, rows) // line of each symbol, by position
	err := eachLineOf(data, name, func(n int, line string) error {
		s, err := parseSymversRow(line)
		if err != nil {
			return parseErr(name, n, "%v", err)
		}
		if i, ok := abi.index[s.Name]; ok {
			return parseErr(name, n, "symbol %s listed again (first at line %d)", s.Name, lineOf[i])
		}
		lineOf = append(lineOf, n)
		return abi.Add(s)
	})
	if err != nil {
		return nil, err
	}
	return abi, nil
}

// ReadSymversFile reads a Module.symvers-format file, compressed or not
// (gzip, xz and zstd are recognised by their magic, as in symvers.gz). A file
// whose name starts with "Module.kabi" is a stablelist with CRCs: all its
// symbols are marked stablelisted.
func ReadSymversFile(path string) (*ABI, error) {
	data, err := readTextFile(path)
	if err != nil {
		return nil, err
	}
	abi, err := parseSymvers(data, path)
	if err != nil {
		return nil, err
	}
	if abi.Len() == 0 {
		return nil, fmt.Errorf("%s: no symbols (%d bytes): an empty symbol table is no kernel's or module's", path, len(data))
	}
	if strings.HasPrefix(filepath.Base(path), "Module.kabi") {
		abi.SetStablelist(abi.AsStablelist())
	}
	return abi, nil
}

func parseSymversRow(line string) (Symbol, error) {
	var buf [6]string
	var f []string
	if strings.IndexByte(line, '\t') >= 0 {
		f = splitTabs(line, buf[:0])
	} else {
		f = strings.Fields(line)
	}
	if len(f) != 4 && len(f) != 5 {
		if strings.TrimSpace(line) == "" {
			return Symbol{}, fmt.Errorf("blank line")
		}
		return Symbol{}, fmt.Errorf("want 4 or 5 TAB-separated columns (crc, symbol, module, export type[, namespace]), got %d", len(f))
	}
	crc, err := parseCRC(f[0])
	if err != nil {
		return Symbol{}, err
	}
	s := Symbol{Name: f[1], CRC: crc, Module: f[2], Export: f[3]}
	if len(f) == 5 {
		s.Namespace = f[4]
		// Linux 5.4–5.9 wrote crc, symbol, namespace, module, export.
		if !isExport(f[3]) && isExport(f[4]) {
			s.Namespace, s.Module, s.Export = f[2], f[3], f[4]
		}
	}
	if err := checkName("symbol", s.Name); err != nil {
		return Symbol{}, err
	}
	if err := checkName("module", s.Module); err != nil {
		return Symbol{}, err
	}
	if !isExport(s.Export) {
		return Symbol{}, fmt.Errorf("export type %q does not start with EXPORT_", s.Export)
	}
	if s.Namespace != "" {
		if err := checkName("namespace", s.Namespace); err != nil {
			return Symbol{}, err
		}
	}
	return s, nil
}

func isExport(s string) bool { return strings.HasPrefix(s, "EXPORT_") && checkName("export", s) == nil }

// parseCRC parses "0x" followed by one to eight hex digits.
func parseCRC(s string) (CRC, error) {
	h, ok := strings.CutPrefix(s, "0x")
	if !ok {
		return 0, fmt.Errorf("CRC %q does not start with 0x", s)
	}
	if len(h) == 0 || len(h) > 8 {
		return 0, fmt.Errorf("CRC %q: want 1 to 8 hex digits after 0x", s)
	}
	v, err := strconv.ParseUint(h, 16, 32)
	if err != nil {
		return 0, fmt.Errorf("CRC %q is not hexadecimal", s)
	}
	return CRC(v), nil
}

// checkName accepts a non-empty token of printable ASCII without spaces.
func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("empty %s", what)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c >= 0x7f {
			return fmt.Errorf("%s %q contains byte 0x%02x", what, s, c)
		}
	}
	return nil
}

// splitTabs splits line at TABs into f, stopping after len(buf)+1 fields
// (enough to tell that a row has too many).
func splitTabs(line string, f []string) []string {
	for len(f) < cap(f)-1 {
		i := strings.IndexByte(line, '\t')
		if i < 0 {
			break
		}
		f = append(f, line[:i])
		line = line[i+1:]
	}
	return append(f, line)
}
