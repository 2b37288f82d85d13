package config

import (
	"fmt"
	"path"
)

// validateReferences checks the reference kernels of the stream st at
// field path p: each names a configured source, a version prefix and a
// release pattern, and none is the stream's own kernel line (it would be
// rebuilt and published as well as checked).
func (c *Config) validateReferences(ps *problems, p string, st Stream) {
	seen := map[Reference]int{}
	for i, r := range st.References {
		rp := fmt.Sprintf("%s.references[%d]", p, i)
		c.checkRef(ps, rp+".source", r.Source, "source", c.sourceNames())
		if !versionRE.MatchString(r.Version) {
			ps.add(rp+".version", "%q is not a kernel version prefix; e.g. 5.14.0", r.Version)
		}
		switch _, err := path.Match(r.Release, ""); {
		case r.Release == "":
			ps.add(rp+".release", "required; a pattern such as *.el9")
		case err != nil:
			ps.add(rp+".release", "%q is not a valid pattern; use * and ?, e.g. *.el9", r.Release)
		}
		if r.Source == st.Source && r.Version == st.Version && r.Release == st.Release {
			ps.add(rp, "the same kernels the stream %s rebuilds (source %s, %s-%s); a reference must be another line, e.g. another release pattern or source", st.Name, r.Source, r.Version, r.Release)
		}
		if j, dup := seen[r]; dup {
			ps.add(rp, "the same reference as %s.references[%d]", p, j)
		} else {
			seen[r] = i
		}
	}
}

// fillReferences defaults each reference's source to the only source.
func (c *Config) fillReferences(st *Stream) {
	for i := range st.References {
		if st.References[i].Source == "" && len(c.Sources) == 1 {
			st.References[i].Source = c.Sources[0].Name
		}
	}
}
