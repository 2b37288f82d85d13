package repodata

import (
	"bufio"
	"io"
	"strconv"
	"unicode/utf8"
)

// xmlWriter writes rpm-md XML the way createrepo_c lays it out.
type xmlWriter struct {
	*bufio.Writer
}

// text writes s escaped as element content.
func (w xmlWriter) text(s string) { w.escape(s, false) }

// attr writes ` name="value"`.
func (w xmlWriter) attr(name, value string) {
	w.WriteByte(' ')
	w.WriteString(name)
	w.WriteString(`="`)
	w.escape(value, true)
	w.WriteByte('"')
}

func (w xmlWriter) intAttr(name string, v int64) {
	var buf [20]byte
	w.WriteByte(' ')
	w.WriteString(name)
	w.WriteString(`="`)
	w.Write(strconv.AppendInt(buf[:0], v, 10))
	w.WriteByte('"')
}

// escape writes s as XML. Like createrepo_c, a string that is not valid UTF-8
// is taken as Latin-1; control characters XML 1.0 cannot carry are dropped.
func (w xmlWriter) escape(s string, inAttr bool) {
	if plain(s, inAttr) {
		w.WriteString(s)
		return
	}
	if !utf8.ValidString(s) {
		s = latin1ToUTF8(s)
	}
	for _, r := range s {
		switch {
		case r == '&':
			w.WriteString("&amp;")
		case r == '<':
			w.WriteString("&lt;")
		case r == '>':
			w.WriteString("&gt;")
		case r == '"' && inAttr:
			w.WriteString("&quot;")
		case r == '\r':
			w.WriteString("&#13;")
		case (r == '\n' || r == '\t') && inAttr:
			w.WriteString("&#" + strconv.Itoa(int(r)) + ";")
		case unwritable(r): // dropped
		default:
			w.WriteRune(r)
		}
	}
}

// unwritable reports a character XML 1.0 cannot carry, which escape drops.
func unwritable(r rune) bool {
	return r < 0x20 && r != '\n' && r != '\t' && r != '\r' || r == 0xFFFE || r == 0xFFFF
}

// plain reports whether s is ASCII with nothing to escape: no markup
// characters, no control characters other than newline and tab in text.
func plain(s string, inAttr bool) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= 0x80, c == '&', c == '<', c == '>', c == '"':
			return false
		case c < 0x20 && (inAttr || c != '\n' && c != '\t'):
			return false
		}
	}
	return true
}

// latin1ToUTF8 converts a Latin-1 string to UTF-8 the way createrepo_c
// does: bytes 0x80-0xBF are dropped (they are usually misencoded cp1252).
func latin1ToUTF8(s string) string {
	out := make([]rune, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 && c < 0xc0 {
			continue
		}
		out = append(out, rune(c))
	}
	return string(out)
}

// element writes <name>text</name> on its own indented line.
func (w xmlWriter) element(indent, name, text string) {
	w.WriteString(indent)
	w.WriteByte('<')
	w.WriteString(name)
	w.WriteByte('>')
	w.text(text)
	w.WriteString("</")
	w.WriteString(name)
	w.WriteString(">\n")
}

func (w xmlWriter) version(indent string, p *Package) {
	w.WriteString(indent)
	w.WriteString("<version")
	w.attr("epoch", orZero(p.Epoch))
	w.attr("ver", p.Version)
	w.attr("rel", p.Release)
	w.WriteString("/>\n")
}

func orZero(epoch string) string {
	if epoch == "" {
		return "0"
	}
	return epoch
}

func (w xmlWriter) file(indent string, f File) {
	w.WriteString(indent)
	w.WriteString("<file")
	if f.Type != "" {
		w.attr("type", f.Type)
	}
	w.WriteByte('>')
	w.text(f.Path)
	w.WriteString("</file>\n")
}

// header writes the XML declaration and the root element's start tag.
func (w xmlWriter) header(root, xmlns string, rpmNS bool, count int) {
	w.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n<" + root)
	w.attr("xmlns", xmlns)
	if rpmNS {
		w.attr("xmlns:rpm", nsRPM)
	}
	w.intAttr("packages", int64(count))
	w.WriteString(">\n")
}

// document is one of the metadata files: how it begins, how one package is
// written into it and how it ends.
type document struct {
	kind  string
	begin func(w xmlWriter, count int)
	pkg   func(w xmlWriter, p *Package)
	end   string
}

var documents = []document{
	{"primary", func(w xmlWriter, n int) { w.header("metadata", nsCommon, true, n) }, xmlWriter.primaryPackage, "</metadata>\n"},
	{"filelists", func(w xmlWriter, n int) { w.header("filelists", nsFilelists, false, n) }, xmlWriter.filelistsPackage, "</filelists>\n"},
	{"other", func(w xmlWriter, n int) { w.header("otherdata", nsOther, false, n) }, xmlWriter.otherPackage, "</otherdata>\n"},
}

// writeAll writes the whole document for pkgs.
func (doc document) writeAll(bw *bufio.Writer, pkgs []*Package) error {
	w := xmlWriter{bw}
	doc.begin(w, len(pkgs))
	for _, p := range pkgs {
		doc.pkg(w, p)
	}
	w.WriteString(doc.end)
	return bw.Flush()
}

func (w xmlWriter) primaryPackage(p *Package) {
	w.WriteString("<package type=\"rpm\">\n")
	w.element("  ", "name", p.Name)
	w.element("  ", "arch", p.Arch)
	w.version("  ", p)
	w.WriteString("  <checksum")
	w.attr("type", p.ChecksumType)
	w.WriteString(` pkgid="YES">`)
	w.text(p.Checksum)
	w.WriteString("</checksum>\n")
	w.element("  ", "summary", p.Summary)
	w.element("  ", "description", p.Description)
	w.element("  ", "packager", p.Packager)
	w.element("  ", "url", p.URL)
	w.WriteString("  <time")
	w.intAttr("file", p.FileTime)
	w.intAttr("build", p.BuildTime)
	w.WriteString("/>\n  <size")
	w.intAttr("package", p.PackageSize)
	w.intAttr("installed", p.InstalledSize)
	w.intAttr("archive", p.ArchiveSize)
	w.WriteString("/>\n  <location")
	if p.LocationBase != "" {
		w.attr("xml:base", p.LocationBase)
	}
	w.attr("href", p.Location)
	w.WriteString("/>\n  <format>\n")
	w.element("    ", "rpm:license", p.License)
	w.element("    ", "rpm:vendor", p.Vendor)
	w.element("    ", "rpm:group", p.Group)
	w.element("    ", "rpm:buildhost", p.BuildHost)
	w.element("    ", "rpm:sourcerpm", p.SourceRPM)
	w.WriteString("    <rpm:header-range")
	w.intAttr("start", p.HeaderStart)
	w.intAttr("end", p.HeaderEnd)
	w.WriteString("/>\n")
	w.deps("provides", p.Provides)
	w.deps("requires", p.Requires)
	w.deps("conflicts", p.Conflicts)
	w.deps("obsoletes", p.Obsoletes)
	w.deps("suggests", p.Suggests)
	w.deps("enhances", p.Enhances)
	w.deps("recommends", p.Recommends)
	w.deps("supplements", p.Supplements)
	for _, f := range p.Files {
		if PrimaryFile(f.Path) {
			w.file("    ", f)
		}
	}
	w.WriteString("  </format>\n</package>\n")
}

func (w xmlWriter) deps(kind string, deps []Dep) {
	if len(deps) == 0 {
		return
	}
	w.WriteString("    <rpm:")
	w.WriteString(kind)
	w.WriteString(">\n")
	for _, d := range deps {
		w.WriteString("      <rpm:entry")
		w.attr("name", d.Name)
		if d.Flags != "" {
			w.attr("flags", d.Flags)
		}
		if d.Version != "" || d.Epoch != "" {
			w.attr("epoch", orZero(d.Epoch))
			w.attr("ver", d.Version)
			if d.Release != "" {
				w.attr("rel", d.Release)
			}
		}
		if d.Pre {
			w.attr("pre", "1")
		}
		w.WriteString("/>\n")
	}
	w.WriteString("    </rpm:")
	w.WriteString(kind)
	w.WriteString(">\n")
}

// packageStart writes the <package pkgid name arch> line and version shared
// by filelists.xml and other.xml.
func (w xmlWriter) packageStart(p *Package) {
	w.WriteString("<package")
	w.attr("pkgid", p.Checksum)
	w.attr("name", p.Name)
	w.attr("arch", p.Arch)
	w.WriteString(">\n")
	w.version("  ", p)
}

func (w xmlWriter) filelistsPackage(p *Package) {
	w.packageStart(p)
	for _, f := range p.Files {
		w.file("  ", f)
	}
	w.WriteString("</package>\n")
}

func (w xmlWriter) otherPackage(p *Package) {
	w.packageStart(p)
	for _, c := range p.Changelogs {
		w.WriteString("  <changelog")
		w.attr("author", c.Author)
		w.intAttr("date", c.Date)
		w.WriteByte('>')
		w.text(c.Text)
		w.WriteString("</changelog>\n")
	}
	w.WriteString("</package>\n")
}

// newBufWriter returns a buffered writer sized for metadata documents:
// small enough that compressing and hashing a document keep pace with the
// packages written into it, instead of piling up at its end.
func newBufWriter(w io.Writer) *bufio.Writer { return bufio.NewWriterSize(w, 32<<10) }
