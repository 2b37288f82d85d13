package rpm

import (
	"bytes"
	"cmp"
	"encoding/binary"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"unsafe"
)

// Header data types (rpm's rpmTagType), the Type of an Entry.
const (
	TypeChar        = 1
	TypeInt8        = 2
	TypeInt16       = 3
	TypeInt32       = 4
	TypeInt64       = 5
	TypeString      = 6
	TypeBin         = 7
	TypeStringArray = 8
	TypeI18NString  = 9
)

// typeSizes gives the element size of fixed-size header types; 0 means a
// NUL-terminated string type.
var typeSizes = [...]uint32{0: 0, TypeChar: 1, TypeInt8: 1, TypeInt16: 2, TypeInt32: 4, TypeInt64: 8,
	TypeString: 0, TypeBin: 1, TypeStringArray: 0, TypeI18NString: 0}

// entry is one index entry of a header.
type entry struct {
	tag, typ, offset, count uint32
}

// header is one parsed header structure: its index, sorted by tag, and its
// data store. Every entry has been checked to lie within the data. raw is
// the whole structure as read, from its magic to its end (with padding).
// raw is never written after it is read: text shares its memory, so that
// string values are substrings of it rather than copies. Code that hands the
// bytes out (rawHeader) copies them.
type header struct {
	index []entry
	data  []byte
	raw   []byte
	text  string // data, as a string
}

// readHeaderAt reads and validates the header structure at off. It returns
// the header and the offset just past it (padded to 8 bytes when pad is set,
// as the signature header is).
func readHeaderAt(r io.ReaderAt, size, off int64, what string, pad bool) (*header, int64, error) {
	intro := make([]byte, introSize)
	if _, err := r.ReadAt(intro, off); err != nil {
		return nil, 0, fmt.Errorf("read %s at offset %d: %w", what, off, truncated(err))
	}
	if [4]byte(intro[:4]) != headerMagic {
		return nil, 0, fmt.Errorf("%s at offset %d: bad magic", what, off)
	}
	il := binary.BigEndian.Uint32(intro[8:])
	dl := binary.BigEndian.Uint32(intro[12:])
	if il == 0 || il > maxIndexEntries || dl > maxDataSize {
		return nil, 0, fmt.Errorf("%s at offset %d: implausible size (%d entries, %d data bytes)", what, off, il, dl)
	}
	body := int64(il)*16 + int64(dl)
	end := off + introSize + body
	if pad {
		end = off + introSize + int64(il)*16 + (int64(dl)+7)/8*8
	}
	if end > size {
		return nil, 0, fmt.Errorf("%s at offset %d: truncated (needs %d bytes, file has %d)", what, off, end, size)
	}
	raw := make([]byte, end-off)
	if _, err := r.ReadAt(raw, off); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", what, truncated(err))
	}
	buf := raw[introSize : introSize+body]
	h := &header{index: make([]entry, il), data: buf[il*16:], raw: raw}
	if len(h.data) > 0 {
		h.text = unsafe.String(&h.data[0], len(h.data))
	}
	for i := range h.index {
		e := buf[i*16:]
		h.index[i] = entry{binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:]),
			binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])}
		if err := h.check(h.index[i]); err != nil {
			return nil, 0, fmt.Errorf("%s entry %d: %w", what, i, err)
		}
	}
	byTag := func(a, b entry) int { return cmp.Compare(a.tag, b.tag) }
	if !slices.IsSortedFunc(h.index, byTag) {
		slices.SortFunc(h.index, byTag)
	}
	return h, end, nil
}

func (h *header) check(e entry) error {
	_, err := h.end(e)
	return err
}

// end returns the offset in the data just past e's values, or why they do
// not lie within the data.
func (h *header) end(e entry) (uint32, error) {
	if e.typ == 0 || e.typ >= uint32(len(typeSizes)) {
		return 0, fmt.Errorf("tag %d: unknown data type %d", e.tag, e.typ)
	}
	if e.count == 0 {
		return 0, fmt.Errorf("tag %d: no values", e.tag)
	}
	if uint64(e.offset) > uint64(len(h.data)) {
		return 0, fmt.Errorf("tag %d: offset %d beyond data (%d bytes)", e.tag, e.offset, len(h.data))
	}
	if elem := typeSizes[e.typ]; elem > 0 {
		end := uint64(e.offset) + uint64(elem)*uint64(e.count)
		if end > uint64(len(h.data)) {
			return 0, fmt.Errorf("tag %d: %d values at offset %d overrun data", e.tag, e.count, e.offset)
		}
		return uint32(end), nil
	}
	end, left := e.offset, e.count
	// Whole blocks with fewer terminators than strings left are skipped at
	// once: file lists are tens of thousands of short strings. The last
	// block's worth, whose count would say no more than that, is walked
	// string by string.
	for rest := h.data[end:]; left > 0 && len(rest) > stringBlock; rest = h.data[end:] {
		n := uint32(bytes.Count(rest[:stringBlock], nul))
		if n >= left {
			break
		}
		end, left = end+stringBlock, left-n
	}
	for ; left > 0; left-- {
		i := bytes.IndexByte(h.data[end:], 0)
		if i < 0 {
			return 0, fmt.Errorf("tag %d: unterminated string", e.tag)
		}
		end += uint32(i) + 1
	}
	return end, nil
}

// stringBlock is how many bytes of a string array end skips at a time.
const stringBlock = 1024

var nul = []byte{0}

func (h *header) find(tag int) (entry, bool) {
	i := sort.Search(len(h.index), func(i int) bool { return h.index[i].tag >= uint32(tag) })
	if i < len(h.index) && h.index[i].tag == uint32(tag) {
		return h.index[i], true
	}
	return entry{}, false
}

func (h *header) has(tag int) bool {
	_, ok := h.find(tag)
	return ok
}

// strings returns a string or string array tag's values.
func (h *header) strings(tag int) []string {
	e, ok := h.find(tag)
	if !ok || (e.typ != TypeString && e.typ != TypeStringArray && e.typ != TypeI18NString) {
		return nil
	}
	if e.typ != TypeStringArray {
		e.count = 1 // i18n strings: the first is the untranslated one
	}
	out := make([]string, 0, e.count)
	rest := h.text[e.offset:]
	for range e.count {
		i := strings.IndexByte(rest, 0)
		out = append(out, rest[:i])
		rest = rest[i+1:]
	}
	return out
}

// string returns a string tag's value, or the first of a string array.
func (h *header) string(tag int) string {
	e, ok := h.find(tag)
	if !ok || (e.typ != TypeString && e.typ != TypeStringArray && e.typ != TypeI18NString) {
		return ""
	}
	s := h.text[e.offset:]
	return s[:strings.IndexByte(s, 0)]
}

// uints returns an integer tag's values, whatever their width.
func (h *header) uints(tag int) []uint64 {
	e, ok := h.find(tag)
	if !ok {
		return nil
	}
	d := h.data[e.offset:]
	out := make([]uint64, e.count)
	for i := range out {
		switch e.typ {
		case TypeChar, TypeInt8:
			out[i] = uint64(d[i])
		case TypeInt16:
			out[i] = uint64(binary.BigEndian.Uint16(d[2*i:]))
		case TypeInt32:
			out[i] = uint64(binary.BigEndian.Uint32(d[4*i:]))
		case TypeInt64:
			out[i] = binary.BigEndian.Uint64(d[8*i:])
		default:
			return nil
		}
	}
	return out
}

// uint returns the first value of an integer tag, or of its 64-bit
// counterpart when the 32-bit one is absent.
func (h *header) uint(tag, longTag int) (uint64, bool) {
	for _, t := range [2]int{tag, longTag} {
		if e, ok := h.find(t); ok {
			if v, ok := h.value(e, 0); ok {
				return v, true
			}
		}
	}
	return 0, false
}

// value returns the i-th value of the integer entry e.
func (h *header) value(e entry, i int) (uint64, bool) {
	d := h.data[e.offset:]
	switch e.typ {
	case TypeChar, TypeInt8:
		return uint64(d[i]), true
	case TypeInt16:
		return uint64(binary.BigEndian.Uint16(d[2*i:])), true
	case TypeInt32:
		return uint64(binary.BigEndian.Uint32(d[4*i:])), true
	case TypeInt64:
		return binary.BigEndian.Uint64(d[8*i:]), true
	}
	return 0, false
}

func (h *header) uint32s(tag int) []uint32 {
	e, ok := h.find(tag)
	if !ok {
		return nil
	}
	out := make([]uint32, e.count)
	for i := range out {
		v, ok := h.value(e, i)
		if !ok {
			return nil
		}
		out[i] = uint32(v)
	}
	return out
}

// fileNames joins DIRNAMES, DIRINDEXES and BASENAMES (or reads OLDFILENAMES).
// The joined names share one allocation: a kernel has tens of thousands.
func (h *header) fileNames() ([]string, error) {
	if old := h.strings(tagOldFileNames); old != nil {
		return old, nil
	}
	base := h.strings(tagBaseNames)
	dirs := h.strings(tagDirNames)
	idx := h.ints(tagDirIndexes)
	if idx.len() != len(base) {
		return nil, fmt.Errorf("file list: %d base names but %d directory indexes", len(base), idx.len())
	}
	size := 0
	for i, b := range base {
		d := idx.at(i)
		if d >= uint64(len(dirs)) {
			return nil, fmt.Errorf("file list: directory index %d out of range", d)
		}
		size += len(dirs[d]) + len(b)
	}
	if size == 0 {
		return base, nil // names are all empty
	}
	buf := make([]byte, 0, size)
	for i, b := range base {
		buf = append(buf, dirs[idx.at(i)]...)
		buf = append(buf, b...)
	}
	// buf is never written again: the names are substrings of it.
	all, off := unsafe.String(&buf[0], len(buf)), 0
	for i, b := range base {
		n := len(dirs[idx.at(i)]) + len(b)
		base[i] = all[off : off+n]
		off += n
	}
	return base, nil
}

// intArray is an integer tag's values, read in place.
type intArray struct {
	h *header
	e entry
}

// ints returns the values of an integer tag; a missing tag, or one that is
// not of an integer type, has none.
func (h *header) ints(tag int) intArray {
	e, ok := h.find(tag)
	if !ok || e.typ < TypeChar || e.typ > TypeInt64 {
		return intArray{}
	}
	return intArray{h, e}
}

func (a intArray) len() int {
	if a.h == nil {
		return 0
	}
	return int(a.e.count)
}

// at returns the i-th value; i must be below a.len().
func (a intArray) at(i int) uint64 {
	v, _ := a.h.value(a.e, i)
	return v
}
