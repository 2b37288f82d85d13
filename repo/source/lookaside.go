package source

import (
	"bufio"
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

// lookasideFile is one file a dist-git commit keeps in the lookaside cache.
type lookasideFile struct {
	Name string // file name, one path segment
	Sum  Checksum
}

// sourcesRE matches a line of the newer "sources" format:
// SHA512 (linux-5.14.0-258.el9.tar.xz) = <hex>.
var sourcesRE = regexp.MustCompile(`^([A-Za-z0-9]+) \(([^()]+)\) = ([0-9a-fA-F]+)$`)

// parseLookaside reads a dist-git lookaside index: either the CentOS
// ".<name>.metadata" format, lines "<sha1-or-sha256> SOURCES/<file>", or
// the "sources" format, lines "SHA512 (<file>) = <hex>". name names the
// file in errors. Every file name must be a single safe path segment.
func parseLookaside(name string, data []byte) ([]lookasideFile, error) {
	var out []lookasideFile
	sc := bufio.NewScanner(bytes.NewReader(data))
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		f, err := parseLookasideLine(text)
		if err != nil {
			return nil, &BadInputError{Input: fmt.Sprintf("%s:%d", name, line), Err: err}
		}
		out = append(out, f)
	}
	if err := sc.Err(); err != nil {
		return nil, badInput(name, ErrMalformed, "%v", err)
	}
	return out, nil
}

func parseLookasideLine(text string) (lookasideFile, error) {
	var f lookasideFile
	if m := sourcesRE.FindStringSubmatch(text); m != nil {
		f = lookasideFile{Name: m[2], Sum: Checksum{Type: strings.ToLower(m[1]), Hex: strings.ToLower(m[3])}}
	} else {
		hexSum, path, ok := strings.Cut(text, " ")
		if !ok {
			return f, fmt.Errorf("%w: %q is neither \"<hash> SOURCES/<file>\" nor \"SHA512 (<file>) = <hash>\"", ErrMalformed, text)
		}
		typ := map[int]string{40: "sha1", 64: "sha256", 128: "sha512"}[len(hexSum)]
		f = lookasideFile{Name: strings.TrimPrefix(strings.TrimSpace(path), "SOURCES/"), Sum: Checksum{Type: typ, Hex: strings.ToLower(hexSum)}}
	}
	if err := checkChecksum(f.Sum); err != nil {
		return f, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if err := checkLocation(f.Name); err != nil || strings.Contains(f.Name, "/") {
		return f, fmt.Errorf("%w: file name %q is not one plain path segment", ErrLocation, f.Name)
	}
	return f, nil
}

// lookasideURL expands a lookaside template. Placeholders: {name}
// (package), {branch}, {filename}, {hashtype} and {hash}. A lookaside
// without placeholders gets CentOS's layout, "<lookaside>/{name}/{branch}/{hash}".
func lookasideURL(template, pkg, branch string, f lookasideFile) string {
	if !strings.Contains(template, "{") {
		template = strings.TrimSuffix(template, "/") + "/{name}/{branch}/{hash}"
	}
	return strings.NewReplacer(
		"{name}", escapePath(pkg), "{branch}", escapePath(branch),
		"{filename}", escapePath(f.Name), "{hashtype}", f.Sum.Type, "{hash}", f.Sum.Hex,
	).Replace(template)
}
