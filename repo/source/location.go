package source

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
)

// schemeRE matches a URL scheme at the start of a reference.
var schemeRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*:`)

// checkLocation accepts a relative slash path inside the source: no scheme
// or host, no leading "/", no empty, "." or ".." segments, no backslashes,
// control characters, '?' or '#'. Upstream metadata is outside data: a
// location such as "../../etc/passwd" or "https://elsewhere/x.rpm" must
// never be followed.
func checkLocation(loc string) error {
	switch {
	case loc == "":
		return fmt.Errorf("%w: empty", ErrLocation)
	case len(loc) > 4096:
		return fmt.Errorf("%w: %d bytes long", ErrLocation, len(loc))
	case schemeRE.MatchString(loc) || strings.HasPrefix(loc, "//"):
		return fmt.Errorf("%w: %q is an absolute URL", ErrLocation, loc)
	case strings.HasPrefix(loc, "/"):
		return fmt.Errorf("%w: %q is an absolute path", ErrLocation, loc)
	}
	for _, c := range loc {
		if c < 0x20 || c == 0x7f || c == '\\' || c == '?' || c == '#' {
			return fmt.Errorf("%w: %q holds %q", ErrLocation, loc, c)
		}
	}
	for _, seg := range strings.Split(loc, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("%w: %q has a %q segment", ErrLocation, loc, seg)
		}
	}
	return nil
}

// escapePath escapes each segment of a checked location for a URL path.
func escapePath(loc string) string {
	segs := strings.Split(loc, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// sameBase reports whether an xml:base names the repository itself.
func sameBase(base string, root *url.URL) bool {
	if base == "" {
		return true
	}
	if root == nil {
		return false
	}
	u, err := url.Parse(base)
	if err != nil {
		return false
	}
	trim := func(p string) string { return strings.TrimSuffix(p, "/") }
	return u.Scheme == root.Scheme && u.Host == root.Host && trim(u.Path) == trim(root.Path) && u.RawQuery == "" && u.User == nil
}
