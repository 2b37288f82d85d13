package kernelnvr

import (
	"fmt"
	"path"
	"strings"

	"github.com/kabiforge/kabiforge/config"
)

// Rule selects the kernels of one tracked stream, e.g. kernel 4.18.0 with
// releases matching *.el8*. The zero Rule matches every "kernel".
type Rule struct {
	// Name is the package name; "" means DefaultName.
	Name string
	// Version is a version prefix on dot boundaries: "4.18" matches 4.18.0
	// but not 4.180.1. "" matches any version.
	Version string
	// Release is a path.Match glob over the release, e.g. "*.el8*". ""
	// matches any release.
	Release string
}

// Check reports a malformed Release glob.
func (r Rule) Check() error {
	if _, err := path.Match(r.Release, ""); err != nil {
		return fmt.Errorf("release glob %q: %w", r.Release, err)
	}
	return nil
}

// Match reports whether n belongs to the stream. A malformed glob matches
// nothing; Check finds it.
func (r Rule) Match(n NVR) bool {
	name := r.Name
	if name == "" {
		name = DefaultName
	}
	if n.Name != name {
		return false
	}
	if r.Version != "" && n.Version != r.Version && !strings.HasPrefix(n.Version, r.Version+".") {
		return false
	}
	if r.Release != "" {
		ok, err := path.Match(r.Release, n.Release)
		if err != nil || !ok {
			return false
		}
	}
	return true
}

// StreamRule returns the rule of a configured stream: the kernel package
// with the stream's version prefix and release glob.
func StreamRule(s config.Stream) Rule {
	return Rule{Name: DefaultName, Version: s.Version, Release: s.Release}
}
