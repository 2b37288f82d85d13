// Package rpm reads RPM packages and source packages: their NEVRA,
// dependencies, files, sizes, header byte range, descriptive tags, changelog
// and payload. It also compares versions the way rpm does.
package rpm

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	rpmutils "github.com/sassoftware/go-rpmutils"
)

// Tags go-rpmutils does not name.
const (
	tagRecommendName    = 5046
	tagRecommendVersion = 5047
	tagRecommendFlags   = 5048
	tagSuggestName      = 5049
	tagSuggestVersion   = 5050
	tagSuggestFlags     = 5051
	tagSupplementName   = 5052
	tagSupplementVer    = 5053
	tagSupplementFlags  = 5054
	tagEnhanceName      = 5055
	tagEnhanceVersion   = 5056
	tagEnhanceFlags     = 5057
	tagObsoleteName     = 1090
	tagSigLongArchive   = 271
	tagSigPayloadSize   = rpmutils.SIG_PAYLOADSIZE
)

// Sizes of a package: the file, its installed files and its uncompressed payload.
type Sizes struct {
	Package, Installed, Archive int64
}

// Package is the header of one RPM or source RPM.
type Package struct {
	// Path is the file the package was read from.
	Path  string
	NEVRA NEVRA
	// SourceRPM names the source package a binary package was built from; it
	// is empty for source packages.
	SourceRPM string

	Summary, Description, URL, License, Vendor, Group, Packager, BuildHost string
	BuildTime                                                              time.Time
	Size                                                                   Sizes
	// HeaderStart and HeaderEnd delimit the main header in the file, as
	// rpm-md's rpm:header-range does.
	HeaderStart, HeaderEnd int64

	Provides, Requires, Conflicts, Obsoletes    []Dep
	Recommends, Suggests, Supplements, Enhances []Dep

	Files     []File
	Changelog []ChangelogEntry

	// Header gives access to any other tag.
	Header *rpmutils.RpmHeader
}

// ChangelogEntry is one entry of a package's changelog.
type ChangelogEntry struct {
	Author string
	Time   time.Time
	Text   string
}

// IsSource reports whether the package is a source RPM (it has no SOURCERPM tag).
func (p *Package) IsSource() bool { return p.SourceRPM == "" }

// Open reads the headers of the RPM at path. The payload is not read.
func Open(path string) (*Package, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open rpm: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("open rpm: %w", err)
	}
	p, err := read(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("read rpm %s: %w", path, err)
	}
	p.Path = path
	return p, nil
}

// Read reads the headers of an RPM of the given size from r.
func Read(r io.ReaderAt, size int64) (*Package, error) {
	return read(r, size)
}

func read(r io.ReaderAt, size int64) (p *Package, err error) {
	sigEnd, hdrEnd, err := checkLayout(r, size)
	if err != nil {
		return nil, err
	}
	defer func() {
		if v := recover(); v != nil {
			p, err = nil, fmt.Errorf("corrupt header: %v", v)
		}
	}()
	hdr, err := rpmutils.ReadHeader(bufio.NewReader(io.NewSectionReader(r, 0, hdrEnd)))
	if err != nil {
		return nil, fmt.Errorf("corrupt header: %w", err)
	}
	p = &Package{Header: hdr, HeaderStart: sigEnd, HeaderEnd: hdrEnd}
	p.Size.Package = size
	if err := p.fill(); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Package) fill() error {
	h := p.Header
	var err error
	if p.NEVRA, err = readNEVRA(h); err != nil {
		return err
	}
	p.SourceRPM = str(h, rpmutils.SOURCERPM)
	if p.SourceRPM == "" {
		p.NEVRA.Arch = "src"
	}
	p.Summary = str(h, rpmutils.SUMMARY)
	p.Description = str(h, rpmutils.DESCRIPTION)
	p.URL = str(h, rpmutils.URL)
	p.License = str(h, rpmutils.LICENSE)
	p.Vendor = str(h, rpmutils.VENDOR)
	p.Group = str(h, rpmutils.GROUP)
	p.Packager = str(h, rpmutils.PACKAGER)
	p.BuildHost = str(h, rpmutils.BUILDHOST)
	if t := ints(h, rpmutils.BUILDTIME); len(t) > 0 {
		p.BuildTime = time.Unix(int64(t[0]), 0).UTC()
	}
	if n, err := h.GetUint64Fallback(rpmutils.SIZE, rpmutils.LONGSIZE); err == nil {
		p.Size.Installed = int64(n)
	}
	if n, err := h.GetUint64Fallback(tagSigPayloadSize, tagSigLongArchive); err == nil {
		p.Size.Archive = int64(n)
	}
	p.Provides = deps(h, rpmutils.PROVIDENAME, rpmutils.PROVIDEVERSION, rpmutils.PROVIDEFLAGS, false)
	p.Requires = deps(h, rpmutils.REQUIRENAME, rpmutils.REQUIREVERSION, rpmutils.REQUIREFLAGS, true)
	p.Conflicts = deps(h, rpmutils.CONFLICTNAME, rpmutils.CONFLICTVERSION, rpmutils.CONFLICTFLAGS, false)
	p.Obsoletes = deps(h, tagObsoleteName, rpmutils.OBSOLETEVERSION, rpmutils.OBSOLETEFLAGS, false)
	p.Recommends = deps(h, tagRecommendName, tagRecommendVersion, tagRecommendFlags, false)
	p.Suggests = deps(h, tagSuggestName, tagSuggestVersion, tagSuggestFlags, false)
	p.Supplements = deps(h, tagSupplementName, tagSupplementVer, tagSupplementFlags, false)
	p.Enhances = deps(h, tagEnhanceName, tagEnhanceVersion, tagEnhanceFlags, false)
	if p.Files, err = readFiles(h); err != nil {
		return err
	}
	p.Changelog = readChangelog(h)
	return nil
}

func readNEVRA(h *rpmutils.RpmHeader) (NEVRA, error) {
	n := NEVRA{
		Name:    str(h, rpmutils.NAME),
		Version: str(h, rpmutils.VERSION),
		Release: str(h, rpmutils.RELEASE),
		Arch:    str(h, rpmutils.ARCH),
	}
	if n.Name == "" || n.Version == "" || n.Release == "" {
		return NEVRA{}, errors.New("header lacks name, version or release")
	}
	if h.HasTag(rpmutils.EPOCH) {
		e := ints(h, rpmutils.EPOCH)
		if len(e) == 0 {
			return NEVRA{}, errors.New("unreadable EPOCH tag")
		}
		n.Epoch = fmt.Sprint(e[0])
	}
	return n, nil
}

func str(h *rpmutils.RpmHeader, tag int) string {
	s, err := h.GetStrings(tag)
	if err != nil || len(s) == 0 {
		return ""
	}
	return s[0]
}

func strs(h *rpmutils.RpmHeader, tag int) []string {
	s, _ := h.GetStrings(tag)
	return s
}

func ints(h *rpmutils.RpmHeader, tag int) []uint64 {
	v, _ := h.GetUint64s(tag)
	return v
}

func deps(h *rpmutils.RpmHeader, nameTag, versionTag, flagsTag int, requires bool) []Dep {
	names := strs(h, nameTag)
	if len(names) == 0 {
		return nil
	}
	flags, _ := h.GetUint32s(flagsTag)
	return makeDeps(names, strs(h, versionTag), flags, requires)
}

func readChangelog(h *rpmutils.RpmHeader) []ChangelogEntry {
	names := strs(h, rpmutils.CHANGELOGNAME)
	texts := strs(h, rpmutils.CHANGELOGTEXT)
	times := ints(h, rpmutils.CHANGELOGTIME)
	out := make([]ChangelogEntry, 0, len(names))
	for i, n := range names {
		e := ChangelogEntry{Author: n}
		if i < len(texts) {
			e.Text = texts[i]
		}
		if i < len(times) {
			e.Time = time.Unix(int64(times[i]), 0).UTC()
		}
		out = append(out, e)
	}
	return out
}
