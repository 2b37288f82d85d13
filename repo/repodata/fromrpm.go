package repodata

import (
	"strings"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// ChangelogLimit is how many of a package's newest changelog entries
// other.xml keeps, as createrepo_c does by default.
const ChangelogLimit = 10

// FromRPM describes p as rpm-md does. location is the package's path relative
// to the repository root (slash-separated), sha256 the hex checksum of the
// whole file and mtime its modification time in Unix seconds.
func FromRPM(p *rpm.Package, location, sha256 string, mtime int64) *Package {
	n := p.NEVRA
	out := &Package{
		Name: n.Name, Arch: n.Arch, Epoch: orZero(n.Epoch), Version: n.Version, Release: n.Release,
		ChecksumType: "sha256", Checksum: sha256,
		Summary: p.Summary, Description: p.Description, Packager: p.Packager, URL: p.URL,
		FileTime: mtime, BuildTime: p.BuildTime.Unix(),
		PackageSize: p.Size.Package, InstalledSize: p.Size.Installed, ArchiveSize: p.Size.Archive,
		Location: location,
		License:  p.License, Vendor: p.Vendor, Group: p.Group, BuildHost: p.BuildHost, SourceRPM: p.SourceRPM,
		HeaderStart: p.HeaderStart, HeaderEnd: p.HeaderEnd,
		Provides:    convertDeps(p.Provides),
		Conflicts:   convertDeps(p.Conflicts),
		Obsoletes:   convertDeps(p.Obsoletes),
		Suggests:    convertDeps(p.Suggests),
		Enhances:    convertDeps(p.Enhances),
		Recommends:  convertDeps(p.Recommends),
		Supplements: convertDeps(p.Supplements),
		Files:       convertFiles(p.Files),
		Changelogs:  convertChangelog(p.Changelog),
	}
	if p.BuildTime.IsZero() {
		out.BuildTime = 0
	}
	out.Requires = primaryRequires(p.Requires, out.Provides, out.Files)
	return out
}

func convertDep(d rpm.Dep) Dep {
	return Dep{Name: d.Name, Flags: d.Flags.String(), Epoch: d.Epoch, Version: d.Version, Release: d.Release}
}

func convertDeps(ds []rpm.Dep) []Dep {
	if len(ds) == 0 {
		return nil
	}
	out := make([]Dep, len(ds))
	for i, d := range ds {
		out[i] = convertDep(d)
	}
	return out
}

// primaryRequires applies createrepo_c's filter to a package's Requires: it
// drops rpmlib(...) deps, files the package itself holds in primary's file
// list, requires exactly matched by one of its own provides, and an entry
// identical to the last one kept with the same name.
func primaryRequires(reqs []rpm.Dep, provides []Dep, files []File) []Dep {
	if len(reqs) == 0 {
		return nil
	}
	// Only provides and files a require names matter: a kernel has tens of
	// thousands of both and a few dozen requires.
	required := make(map[string]bool, len(reqs))
	for _, r := range reqs {
		required[r.Name] = true
	}
	provided := make(map[Dep]bool)
	for _, d := range provides {
		if required[d.Name] {
			provided[d] = true
		}
	}
	own := make(map[string]bool)
	for _, f := range files {
		if required[f.Path] && PrimaryFile(f.Path) {
			own[f.Path] = true
		}
	}
	last := make(map[string]Dep)
	var out []Dep
	for _, r := range reqs {
		d := convertDep(r)
		d.Pre = r.Pre
		if len(d.Name) >= 7 && d.Name[:7] == "rpmlib(" || own[d.Name] {
			continue
		}
		plain := d
		plain.Pre = false
		if provided[plain] {
			continue
		}
		if prev, ok := last[d.Name]; ok && prev == d {
			continue
		}
		last[d.Name] = d
		out = append(out, d)
	}
	return out
}

func convertFiles(fs []rpm.File) []File {
	if len(fs) == 0 {
		return nil
	}
	out := make([]File, len(fs))
	for i, f := range fs {
		out[i] = File{Path: f.Path}
		switch {
		case f.IsDir():
			out[i].Type = "dir"
		case f.IsGhost():
			out[i].Type = "ghost"
		}
	}
	return out
}

// convertChangelog keeps the newest ChangelogLimit entries (rpm stores them
// newest first) and lists them oldest first. Like createrepo_c, it makes
// dates unique: an entry dated the same as the one before it is placed one
// second after that one.
func convertChangelog(cs []rpm.ChangelogEntry) []Changelog {
	if len(cs) > ChangelogLimit {
		cs = cs[:ChangelogLimit]
	}
	if len(cs) == 0 {
		return nil
	}
	out := make([]Changelog, 0, len(cs))
	var lastOrig int64
	for i := len(cs) - 1; i >= 0; i-- {
		date := cs[i].Time.Unix()
		c := Changelog{Author: strings.TrimRight(cs[i].Author, " "), Date: date, Text: cs[i].Text}
		if len(out) > 0 && date == lastOrig {
			c.Date = out[len(out)-1].Date + 1
		}
		lastOrig = date
		out = append(out, c)
	}
	return out
}
