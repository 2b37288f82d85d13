package repodata

import (
	"bufio"
	"encoding/binary"
	"errors"
	"unsafe"
)

// The update cache's records, after its key line: a format line, then each
// package as recordFollows and its fields, then endOfRecords, so that a file
// cut between two records is no cache either. Numbers are varints, strings
// a length and their bytes, lists a length and their items. The fields are
// those cacheFields lists, in its order, then the dependency lists, files
// and changelogs.
const (
	cacheFormat   = "kabiforge-update-cache 2\n"
	recordFollows = 1
	endOfRecords  = 0
)

// cacheFields lists p's strings and numbers in the order the cache holds
// them: one list for both encoding and decoding. TestCacheRoundTrip checks
// that every field of Package is in it or written apart.
func (p *Package) cacheFields() ([18]*string, [7]*int64, [8]*[]Dep) {
	return [...]*string{&p.Name, &p.Arch, &p.Epoch, &p.Version, &p.Release, &p.ChecksumType, &p.Checksum,
			&p.Summary, &p.Description, &p.Packager, &p.URL, &p.Location, &p.LocationBase,
			&p.License, &p.Vendor, &p.Group, &p.BuildHost, &p.SourceRPM},
		[...]*int64{&p.FileTime, &p.BuildTime, &p.PackageSize, &p.InstalledSize, &p.ArchiveSize, &p.HeaderStart, &p.HeaderEnd},
		[...]*[]Dep{&p.Provides, &p.Requires, &p.Conflicts, &p.Obsoletes, &p.Suggests, &p.Enhances, &p.Recommends, &p.Supplements}
}

// cacheEncoder writes records to w; a write error shows when w is flushed.
type cacheEncoder struct {
	w   *bufio.Writer
	buf [binary.MaxVarintLen64]byte
}

func (e *cacheEncoder) pkg(p *Package) {
	e.w.WriteByte(recordFollows)
	strs, ints, deps := p.cacheFields()
	for _, s := range strs {
		e.str(*s)
	}
	for _, n := range ints {
		e.w.Write(binary.AppendVarint(e.buf[:0], *n))
	}
	for _, ds := range deps {
		e.uint(len(*ds))
		for _, d := range *ds {
			e.str(d.Name)
			e.str(d.Flags)
			e.str(d.Epoch)
			e.str(d.Version)
			e.str(d.Release)
			e.bool(d.Pre)
		}
	}
	e.uint(len(p.Files))
	for _, f := range p.Files {
		e.str(f.Path)
		e.str(f.Type)
	}
	e.uint(len(p.Changelogs))
	for _, c := range p.Changelogs {
		e.str(c.Author)
		e.w.Write(binary.AppendVarint(e.buf[:0], c.Date))
		e.str(c.Text)
	}
}

func (e *cacheEncoder) uint(n int) { e.w.Write(binary.AppendUvarint(e.buf[:0], uint64(n))) }

func (e *cacheEncoder) str(s string) {
	e.uint(len(s))
	e.w.WriteString(s)
}

func (e *cacheEncoder) bool(b bool) {
	if b {
		e.w.WriteByte(1)
	} else {
		e.w.WriteByte(0)
	}
}

// errBadCache is any cache content that is not what cacheEncoder writes.
var errBadCache = errors.New("malformed update cache")

// cacheDecoder reads records from s; its strings are substrings of s. The
// first error stops it: every later read returns zero values.
type cacheDecoder struct {
	s   string
	err error
}

// more reads the mark before a record or the end, and reports a record.
func (d *cacheDecoder) more() bool {
	switch d.byte() {
	case recordFollows:
		return d.err == nil
	case endOfRecords:
		if d.err == nil && d.s != "" {
			d.err = errBadCache // bytes after the end
		}
	default:
		d.err = errBadCache
	}
	return false
}

func (d *cacheDecoder) pkg() *Package {
	p := new(Package)
	strs, ints, deps := p.cacheFields()
	for _, s := range strs {
		*s = d.str()
	}
	for _, n := range ints {
		*n = d.int()
	}
	for _, ds := range deps {
		*ds = cacheList(d, func(d *cacheDecoder) Dep {
			return Dep{Name: d.str(), Flags: d.str(), Epoch: d.str(), Version: d.str(), Release: d.str(), Pre: d.bool()}
		})
	}
	p.Files = cacheList(d, func(d *cacheDecoder) File { return File{Path: d.str(), Type: d.str()} })
	p.Changelogs = cacheList(d, func(d *cacheDecoder) Changelog {
		return Changelog{Author: d.str(), Date: d.int(), Text: d.str()}
	})
	return p
}

// cacheList reads a list's length, then its items with item; an empty list
// is nil. Each item takes at least a byte, so a length over what is left is
// an error, not an allocation.
func cacheList[T any](d *cacheDecoder, item func(*cacheDecoder) T) []T {
	n := d.uint()
	if n == 0 || d.err != nil {
		return nil
	}
	if n > uint64(len(d.s)) {
		d.err = errBadCache
		return nil
	}
	out := make([]T, n)
	for i := range out {
		out[i] = item(d)
	}
	return out
}

func (d *cacheDecoder) byte() byte {
	if d.err != nil || d.s == "" {
		d.fail()
		return 0
	}
	b := d.s[0]
	d.s = d.s[1:]
	return b
}

func (d *cacheDecoder) bool() bool {
	switch d.byte() {
	case 0:
		return false
	case 1:
		return true
	}
	d.fail()
	return false
}

func (d *cacheDecoder) uint() uint64 { return varint(d, binary.Uvarint) }

func (d *cacheDecoder) int() int64 { return varint(d, binary.Varint) }

// varint reads a number with read, binary.Uvarint or binary.Varint.
func varint[T uint64 | int64](d *cacheDecoder, read func([]byte) (T, int)) T {
	if d.err != nil {
		return 0
	}
	v, n := read(unsafeBytes(d.s[:min(len(d.s), binary.MaxVarintLen64)]))
	if n <= 0 {
		d.fail()
		return 0
	}
	d.s = d.s[n:]
	return v
}

func (d *cacheDecoder) str() string {
	n := d.uint()
	if d.err != nil || n > uint64(len(d.s)) {
		d.fail()
		return ""
	}
	s := d.s[:n]
	d.s = d.s[n:]
	return s
}

func (d *cacheDecoder) fail() {
	if d.err == nil {
		d.err = errBadCache
	}
}

// unsafeString is data as a string without a copy; data must not change
// while the string is in use.
func unsafeString(data []byte) string {
	return unsafe.String(unsafe.SliceData(data), len(data))
}

// unsafeBytes is s as bytes without a copy, for reading only.
func unsafeBytes(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
