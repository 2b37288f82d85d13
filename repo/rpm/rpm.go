// Package rpm reads RPM packages and source packages: their NEVRA,
// dependencies, files, sizes, header byte range, descriptive tags, changelog
// and payload. It also compares versions the way rpm does.
package rpm

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// Header tags kabiforge reads (rpm's rpmTag values).
const (
	tagName            = 1000
	tagVersion         = 1001
	tagRelease         = 1002
	tagEpoch           = 1003
	tagSummary         = 1004
	tagDescription     = 1005
	tagBuildTime       = 1006
	tagBuildHost       = 1007
	tagSize            = 1009
	tagVendor          = 1011
	tagLicense         = 1014
	tagPackager        = 1015
	tagGroup           = 1016
	tagURL             = 1020
	tagArch            = 1022
	tagOldFileNames    = 1027
	tagFileSizes       = 1028
	tagFileModes       = 1030
	tagFileDigests     = 1035
	tagFileLinkTos     = 1036
	tagFileFlags       = 1037
	tagSourceRPM       = 1044
	tagArchiveSize     = 1046
	tagProvideName     = 1047
	tagRequireFlags    = 1048
	tagRequireName     = 1049
	tagRequireVersion  = 1050
	tagConflictFlags   = 1053
	tagConflictName    = 1054
	tagConflictVersion = 1055
	tagChangelogTime   = 1080
	tagChangelogName   = 1081
	tagChangelogText   = 1082
	tagObsoleteName    = 1090
	tagProvideFlags    = 1112
	tagProvideVersion  = 1113
	tagObsoleteFlags   = 1114
	tagObsoleteVersion = 1115
	tagDirIndexes      = 1116
	tagBaseNames       = 1117
	tagDirNames        = 1118
	tagLongFileSizes   = 5008
	tagLongSize        = 5009
	tagRecommendName   = 5046
	tagRecommendVer    = 5047
	tagRecommendFlags  = 5048
	tagSuggestName     = 5049
	tagSuggestVersion  = 5050
	tagSuggestFlags    = 5051
	tagSupplementName  = 5052
	tagSupplementVer   = 5053
	tagSupplementFlags = 5054
	tagEnhanceName     = 5055
	tagEnhanceVersion  = 5056
	tagEnhanceFlags    = 5057

	// Signature header tags.
	sigTagPayloadSize = 1007 // uncompressed payload bytes (uint32)
	sigTagLongArchive = 271  // uncompressed payload bytes (uint64)
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

	hdr *header
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
	f, err := infile.Open(path)
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

// ReadChecked reads the headers of an RPM of the given size from r, as Read
// does, and checks the main header against the digests the signature header
// records. It does not read the payload, from p.HeaderEnd to size: write
// that to the Digests returned, then call its Check.
func ReadChecked(r io.ReaderAt, size int64) (*Package, *Digests, error) {
	l, err := readLayout(r, size)
	if err != nil {
		return nil, nil, err
	}
	p, err := fromLayout(l, size)
	if err != nil {
		return nil, nil, err
	}
	d, err := newDigests(l.sig, l.main, l.main.raw)
	if err != nil {
		return nil, nil, err
	}
	return p, d, nil
}

func read(r io.ReaderAt, size int64) (*Package, error) {
	l, err := readLayout(r, size)
	if err != nil {
		return nil, err
	}
	return fromLayout(l, size)
}

// fromLayout describes the package whose headers l holds.
func fromLayout(l *layout, size int64) (*Package, error) {
	p := &Package{hdr: l.main, HeaderStart: l.sigEnd, HeaderEnd: l.hdrEnd}
	p.Size.Package = size
	if err := p.fill(l.sig); err != nil {
		return nil, err
	}
	return p, nil
}

func (p *Package) fill(sig *header) error {
	h := p.hdr
	var err error
	if p.NEVRA, err = readNEVRA(h); err != nil {
		return err
	}
	p.SourceRPM = h.string(tagSourceRPM)
	if p.SourceRPM == "" {
		p.NEVRA.Arch = "src"
	}
	p.Summary = h.string(tagSummary)
	p.Description = h.string(tagDescription)
	p.URL = h.string(tagURL)
	p.License = h.string(tagLicense)
	p.Vendor = h.string(tagVendor)
	p.Group = h.string(tagGroup)
	p.Packager = h.string(tagPackager)
	p.BuildHost = h.string(tagBuildHost)
	if t, ok := h.uint(tagBuildTime, tagBuildTime); ok {
		p.BuildTime = time.Unix(int64(t), 0).UTC()
	}
	if n, ok := h.uint(tagSize, tagLongSize); ok {
		p.Size.Installed = int64(n)
	}
	if n, ok := sig.uint(sigTagPayloadSize, sigTagLongArchive); ok {
		p.Size.Archive = int64(n)
	} else if n, ok := h.uint(tagArchiveSize, tagArchiveSize); ok {
		p.Size.Archive = int64(n) // old packages keep it in the main header
	}
	p.Provides = h.deps(tagProvideName, tagProvideVersion, tagProvideFlags, false)
	p.Requires = h.deps(tagRequireName, tagRequireVersion, tagRequireFlags, true)
	p.Conflicts = h.deps(tagConflictName, tagConflictVersion, tagConflictFlags, false)
	p.Obsoletes = h.deps(tagObsoleteName, tagObsoleteVersion, tagObsoleteFlags, false)
	p.Recommends = h.deps(tagRecommendName, tagRecommendVer, tagRecommendFlags, false)
	p.Suggests = h.deps(tagSuggestName, tagSuggestVersion, tagSuggestFlags, false)
	p.Supplements = h.deps(tagSupplementName, tagSupplementVer, tagSupplementFlags, false)
	p.Enhances = h.deps(tagEnhanceName, tagEnhanceVersion, tagEnhanceFlags, false)
	if p.Files, err = h.files(); err != nil {
		return err
	}
	p.Changelog = h.changelog()
	return nil
}

func readNEVRA(h *header) (NEVRA, error) {
	n := NEVRA{
		Name:    h.string(tagName),
		Version: h.string(tagVersion),
		Release: h.string(tagRelease),
		Arch:    h.string(tagArch),
	}
	if n.Name == "" || n.Version == "" || n.Release == "" {
		return NEVRA{}, errors.New("header lacks name, version or release")
	}
	if h.has(tagEpoch) {
		e := h.uints(tagEpoch)
		if len(e) == 0 {
			return NEVRA{}, errors.New("unreadable EPOCH tag")
		}
		n.Epoch = strconv.FormatUint(e[0], 10)
	}
	return n, nil
}

func (h *header) deps(nameTag, versionTag, flagsTag int, requires bool) []Dep {
	names := h.strings(nameTag)
	if len(names) == 0 {
		return nil
	}
	return makeDeps(names, h.strings(versionTag), h.uint32s(flagsTag), requires)
}

func (h *header) changelog() []ChangelogEntry {
	names := h.strings(tagChangelogName)
	texts := h.strings(tagChangelogText)
	times := h.uints(tagChangelogTime)
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
