package build

import (
	"fmt"
	"io/fs"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// localPath returns the directory of a file:// or plain-path repository.
func localPath(r Repo) (string, error) {
	if strings.HasPrefix(r.URL, "/") {
		return r.URL, nil
	}
	u, err := url.Parse(r.URL)
	if err != nil || u.Scheme != "file" || u.Path == "" {
		return "", fmt.Errorf("repository %s: %q is not a local directory (file:///path)", r.Name, r.URL)
	}
	return u.Path, nil
}

// repoIndex holds the binary packages of local repositories.
type repoIndex struct {
	pkgs []*rpm.Package
}

// loadRepos reads the headers of every binary RPM under each repository.
func loadRepos(repos []Repo) (*repoIndex, error) {
	ix := &repoIndex{}
	for _, r := range repos {
		dir, err := localPath(r)
		if err != nil {
			return nil, err
		}
		err = filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || !strings.HasSuffix(path, ".rpm") || strings.HasSuffix(path, ".src.rpm") {
				return nil
			}
			p, err := rpm.Open(path)
			if err != nil {
				return err
			}
			ix.pkgs = append(ix.pkgs, p)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("read repository %s: %w", r.Name, err)
		}
	}
	return ix, nil
}

// provider returns the newest package that satisfies req, or nil.
func (ix *repoIndex) provider(req rpm.Dep) *rpm.Package {
	var best *rpm.Package
	for _, p := range ix.pkgs {
		if !provides(p, req) {
			continue
		}
		if best == nil || rpm.CompareEVR(p.NEVRA.Epoch, p.NEVRA.Version, p.NEVRA.Release,
			best.NEVRA.Epoch, best.NEVRA.Version, best.NEVRA.Release) > 0 {
			best = p
		}
	}
	return best
}

// provides reports whether p satisfies req by a Provides or, for a path, a file.
func provides(p *rpm.Package, req rpm.Dep) bool {
	if strings.HasPrefix(req.Name, "/") {
		return slices.ContainsFunc(p.Files, func(f rpm.File) bool { return f.Path == req.Name })
	}
	self := rpm.Dep{Name: p.NEVRA.Name, Flags: rpm.EQ, Epoch: p.NEVRA.Epoch, Version: p.NEVRA.Version, Release: p.NEVRA.Release}
	if rpm.Overlaps(self, req) {
		return true
	}
	return slices.ContainsFunc(p.Provides, func(prov rpm.Dep) bool { return rpm.Overlaps(prov, req) })
}

// buildRequires returns the BuildRequires recorded in a source package,
// without rpmlib() features.
func buildRequires(srpm *rpm.Package) []rpm.Dep {
	var deps []rpm.Dep
	for _, d := range srpm.Requires {
		if !strings.HasPrefix(d.Name, "rpmlib(") {
			deps = append(deps, d)
		}
	}
	return deps
}

// resolve finds a provider for each BuildRequires. Names in host are taken
// as provided by the build host. It returns the providers found and the
// requirements nothing provides.
func resolve(ix *repoIndex, host []string, reqs []rpm.Dep) (found []*rpm.Package, missing []string) {
	for _, r := range reqs {
		if slices.Contains(host, r.Name) {
			continue
		}
		p := ix.provider(r)
		if p == nil {
			missing = append(missing, r.String())
			continue
		}
		if !slices.Contains(found, p) {
			found = append(found, p)
		}
	}
	return found, missing
}
