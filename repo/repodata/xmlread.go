package repodata

import (
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

type xmlVersion struct {
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
}

type xmlEntry struct {
	Name  string `xml:"name,attr"`
	Flags string `xml:"flags,attr"`
	Epoch string `xml:"epoch,attr"`
	Ver   string `xml:"ver,attr"`
	Rel   string `xml:"rel,attr"`
	Pre   string `xml:"pre,attr"`
}

type xmlFile struct {
	Type string `xml:"type,attr"`
	Path string `xml:",chardata"`
}

type xmlPrimaryPackage struct {
	Type     string      `xml:"type,attr"`
	Name     string      `xml:"name"`
	Arch     string      `xml:"arch"`
	Version  *xmlVersion `xml:"version"`
	Checksum struct {
		Type  string `xml:"type,attr"`
		Value string `xml:",chardata"`
	} `xml:"checksum"`
	Summary     string `xml:"summary"`
	Description string `xml:"description"`
	Packager    string `xml:"packager"`
	URL         string `xml:"url"`
	Time        struct {
		File  string `xml:"file,attr"`
		Build string `xml:"build,attr"`
	} `xml:"time"`
	Size struct {
		Package   string `xml:"package,attr"`
		Installed string `xml:"installed,attr"`
		Archive   string `xml:"archive,attr"`
	} `xml:"size"`
	Location *struct {
		Href string `xml:"href,attr"`
		Base string `xml:"http://www.w3.org/XML/1998/namespace base,attr"`
	} `xml:"location"`
	Format struct {
		License     string `xml:"license"`
		Vendor      string `xml:"vendor"`
		Group       string `xml:"group"`
		BuildHost   string `xml:"buildhost"`
		SourceRPM   string `xml:"sourcerpm"`
		HeaderRange struct {
			Start string `xml:"start,attr"`
			End   string `xml:"end,attr"`
		} `xml:"header-range"`
		Provides    []xmlEntry `xml:"provides>entry"`
		Requires    []xmlEntry `xml:"requires>entry"`
		Conflicts   []xmlEntry `xml:"conflicts>entry"`
		Obsoletes   []xmlEntry `xml:"obsoletes>entry"`
		Suggests    []xmlEntry `xml:"suggests>entry"`
		Enhances    []xmlEntry `xml:"enhances>entry"`
		Recommends  []xmlEntry `xml:"recommends>entry"`
		Supplements []xmlEntry `xml:"supplements>entry"`
		Files       []xmlFile  `xml:"file"`
	} `xml:"format"`
}

type xmlListPackage struct {
	PkgID     string      `xml:"pkgid,attr"`
	Name      string      `xml:"name,attr"`
	Arch      string      `xml:"arch,attr"`
	Version   *xmlVersion `xml:"version"`
	Files     []xmlFile   `xml:"file"`
	Changelog []struct {
		Author string `xml:"author,attr"`
		Date   string `xml:"date,attr"`
		Text   string `xml:",chardata"`
	} `xml:"changelog"`
}

// PackageFiles is one package of filelists.xml.
type PackageFiles struct {
	PkgID, Name, Arch, Epoch, Version, Release string
	Files                                      []File
}

// PackageChangelogs is one package of other.xml.
type PackageChangelogs struct {
	PkgID, Name, Arch, Epoch, Version, Release string
	Changelogs                                 []Changelog
}

// decodeDocument reads an rpm-md document whose root element is root in
// namespace ns, calling fn for each <package> element. It checks that the
// root's packages attribute matches the number of packages.
func decodeDocument(r io.Reader, root, ns string, fn func(d *xml.Decoder, start xml.StartElement) error) error {
	d := xml.NewDecoder(r)
	var declared = -1
	seen, inRoot, done := 0, false, false
	for {
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			line, _ := d.InputPos()
			switch {
			case done:
				return fmt.Errorf("line %d: element <%s> after the document end", line, t.Name.Local)
			case !inRoot:
				if t.Name.Local != root || t.Name.Space != ns {
					return fmt.Errorf("line %d: root element is <%s> in %q, want <%s> in %q", line, t.Name.Local, t.Name.Space, root, ns)
				}
				inRoot = true
				if v, ok := attr(t, "packages"); ok {
					n, err := strconv.Atoi(v)
					if err != nil || n < 0 {
						return fmt.Errorf("line %d: bad packages count %q", line, v)
					}
					declared = n
				}
			case t.Name.Local == "package":
				seen++
				if err := fn(d, t); err != nil {
					return fmt.Errorf("line %d: package %d: %w", line, seen, err)
				}
			default:
				if err := d.Skip(); err != nil {
					return err
				}
			}
		case xml.EndElement:
			done = true
		}
	}
	if !inRoot {
		return fmt.Errorf("no <%s> element", root)
	}
	if !done {
		return errors.New("unexpected end of document")
	}
	if declared >= 0 && declared != seen {
		return fmt.Errorf("root says %d packages, document has %d", declared, seen)
	}
	return nil
}

func attr(e xml.StartElement, name string) (string, bool) {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

// DecodePrimary reads primary.xml. The packages' Files hold primary's file
// subset and their Changelogs are empty; ReadRepo merges the other documents.
func DecodePrimary(r io.Reader) ([]*Package, error) {
	var pkgs []*Package
	err := decodeDocument(r, "metadata", nsCommon, func(d *xml.Decoder, start xml.StartElement) error {
		var x xmlPrimaryPackage
		if err := d.DecodeElement(&x, &start); err != nil {
			return err
		}
		p, err := x.pkg()
		if err != nil {
			return err
		}
		pkgs = append(pkgs, p)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("primary.xml: %w", err)
	}
	return pkgs, nil
}

func (x *xmlPrimaryPackage) pkg() (*Package, error) {
	if x.Type != "rpm" {
		return nil, fmt.Errorf("type %q, want \"rpm\"", x.Type)
	}
	if x.Version == nil || x.Location == nil {
		return nil, fmt.Errorf("%q lacks name, arch, version or location", x.Name)
	}
	f := &x.Format
	p := &Package{
		Name: x.Name, Arch: x.Arch,
		Epoch: x.Version.Epoch, Version: x.Version.Ver, Release: x.Version.Rel,
		ChecksumType: x.Checksum.Type, Checksum: x.Checksum.Value,
		Summary: x.Summary, Description: x.Description, Packager: x.Packager, URL: x.URL,
		Location: x.Location.Href, LocationBase: x.Location.Base,
		License: f.License, Vendor: f.Vendor, Group: f.Group, BuildHost: f.BuildHost, SourceRPM: f.SourceRPM,
		Provides: deps(f.Provides), Requires: deps(f.Requires), Conflicts: deps(f.Conflicts), Obsoletes: deps(f.Obsoletes),
		Suggests: deps(f.Suggests), Enhances: deps(f.Enhances), Recommends: deps(f.Recommends), Supplements: deps(f.Supplements),
		Files: files(f.Files),
	}
	if err := p.check(); err != nil {
		return nil, err
	}
	nums := []struct {
		name string
		s    string
		dst  *int64
	}{
		{"time file", x.Time.File, &p.FileTime}, {"time build", x.Time.Build, &p.BuildTime},
		{"size package", x.Size.Package, &p.PackageSize}, {"size installed", x.Size.Installed, &p.InstalledSize},
		{"size archive", x.Size.Archive, &p.ArchiveSize},
		{"header-range start", f.HeaderRange.Start, &p.HeaderStart}, {"header-range end", f.HeaderRange.End, &p.HeaderEnd},
	}
	for _, n := range nums {
		if n.s == "" {
			continue
		}
		v, err := strconv.ParseInt(n.s, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %s %q is not a number", x.Name, n.name, n.s)
		}
		*n.dst = v
	}
	return p, nil
}

// check reports a record that lacks what every package entry of primary.xml
// must have: name, arch, version, location and checksum, each with a
// character the XML writer keeps (it drops those XML 1.0 cannot carry).
func (p *Package) check() error {
	if !written(p.Name) || !written(p.Arch) || !written(p.Version) || !written(p.Location) {
		return fmt.Errorf("%q lacks name, arch, version or location", p.Name)
	}
	if !written(p.ChecksumType) || !written(p.Checksum) {
		return fmt.Errorf("%s: no checksum", p.Name)
	}
	return nil
}

// written reports whether s keeps a character once written as XML.
func written(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return !unwritable(r) }) >= 0
}

func deps(entries []xmlEntry) []Dep {
	if len(entries) == 0 {
		return nil
	}
	out := make([]Dep, len(entries))
	for i, e := range entries {
		out[i] = Dep{Name: e.Name, Flags: e.Flags, Epoch: e.Epoch, Version: e.Ver, Release: e.Rel,
			Pre: e.Pre == "1" || e.Pre == "true"}
	}
	return out
}

func files(xs []xmlFile) []File {
	if len(xs) == 0 {
		return nil
	}
	out := make([]File, len(xs))
	for i, f := range xs {
		out[i] = File{Path: f.Path, Type: f.Type}
	}
	return out
}

func decodeList(r io.Reader, root, ns string, fn func(x *xmlListPackage) error) error {
	return decodeDocument(r, root, ns, func(d *xml.Decoder, start xml.StartElement) error {
		var x xmlListPackage
		if err := d.DecodeElement(&x, &start); err != nil {
			return err
		}
		if x.PkgID == "" || x.Name == "" || x.Version == nil {
			return fmt.Errorf("%q lacks pkgid, name or version", x.Name)
		}
		return fn(&x)
	})
}

// DecodeFilelists reads filelists.xml.
func DecodeFilelists(r io.Reader) ([]PackageFiles, error) {
	var out []PackageFiles
	err := decodeList(r, "filelists", nsFilelists, func(x *xmlListPackage) error {
		out = append(out, PackageFiles{PkgID: x.PkgID, Name: x.Name, Arch: x.Arch,
			Epoch: x.Version.Epoch, Version: x.Version.Ver, Release: x.Version.Rel, Files: files(x.Files)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("filelists.xml: %w", err)
	}
	return out, nil
}

// DecodeOther reads other.xml.
func DecodeOther(r io.Reader) ([]PackageChangelogs, error) {
	var out []PackageChangelogs
	err := decodeList(r, "otherdata", nsOther, func(x *xmlListPackage) error {
		pc := PackageChangelogs{PkgID: x.PkgID, Name: x.Name, Arch: x.Arch,
			Epoch: x.Version.Epoch, Version: x.Version.Ver, Release: x.Version.Rel}
		for _, c := range x.Changelog {
			date, err := strconv.ParseInt(c.Date, 10, 64)
			if err != nil {
				return fmt.Errorf("%s: changelog date %q is not a number", x.Name, c.Date)
			}
			pc.Changelogs = append(pc.Changelogs, Changelog{Author: c.Author, Date: date, Text: c.Text})
		}
		out = append(out, pc)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("other.xml: %w", err)
	}
	return out, nil
}
