// Package repodata writes and reads rpm-md repository metadata: repomd.xml
// and the primary, filelists and other documents dnf and yum download. What it
// writes follows createrepo_c's conventions, so that both tools describe the
// same packages the same way.
package repodata

import "strings"

// Package is everything rpm-md says about one package, merged from primary,
// filelists and other.
type Package struct {
	Name, Arch                     string
	Epoch, Version, Release        string
	ChecksumType, Checksum         string // pkgid: the checksum of the whole RPM file
	Summary, Description, Packager string
	URL                            string
	// FileTime is the RPM file's modification time and BuildTime its
	// BUILDTIME tag, both in Unix seconds.
	FileTime, BuildTime int64
	// PackageSize is the RPM file's size, InstalledSize the size of its
	// installed files and ArchiveSize that of its uncompressed payload.
	PackageSize, InstalledSize, ArchiveSize int64
	// Location is the package's path relative to the repository root.
	Location string
	// LocationBase is location's xml:base, a URL prefix, usually empty.
	LocationBase string

	License, Vendor, Group, BuildHost, SourceRPM string
	HeaderStart, HeaderEnd                       int64

	Provides, Requires, Conflicts, Obsoletes    []Dep
	Suggests, Enhances, Recommends, Supplements []Dep

	// Files is the complete file list (filelists.xml); primary.xml holds
	// only the entries PrimaryFile selects.
	Files []File
	// Changelogs are oldest first, as other.xml lists them.
	Changelogs []Changelog
}

// Dep is one dependency entry: rpm:entry in primary.xml.
type Dep struct {
	Name string
	// Flags is the comparison: "EQ", "LT", "GT", "LE", "GE" or "".
	Flags                   string
	Epoch, Version, Release string
	// Pre marks a Requires needed before the package's scripts run.
	Pre bool
}

// File is one path a package owns. Type is "", "dir" or "ghost".
type File struct {
	Path string
	Type string
}

// Changelog is one changelog entry; Date is in Unix seconds.
type Changelog struct {
	Author string
	Date   int64
	Text   string
}

// NEVRA formats the package as name-[epoch:]version-release.arch, leaving out
// an epoch that is empty or "0".
func (p *Package) NEVRA() string {
	evr := p.Version + "-" + p.Release
	if p.Epoch != "" && p.Epoch != "0" {
		evr = p.Epoch + ":" + evr
	}
	return p.Name + "-" + evr + "." + p.Arch
}

// PrimaryFile reports whether primary.xml lists path, by createrepo_c's rule:
// anything under /etc/, any path containing "bin/", and /usr/lib/sendmail.
func PrimaryFile(path string) bool {
	return strings.HasPrefix(path, "/etc/") || strings.Contains(path, "bin/") || path == "/usr/lib/sendmail"
}

// Namespaces of the rpm-md documents.
const (
	nsCommon    = "http://linux.duke.edu/metadata/common"
	nsRPM       = "http://linux.duke.edu/metadata/rpm"
	nsFilelists = "http://linux.duke.edu/metadata/filelists"
	nsOther     = "http://linux.duke.edu/metadata/other"
	nsRepo      = "http://linux.duke.edu/metadata/repo"
)
