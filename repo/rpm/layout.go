package rpm

import (
	"bytes"
	"io"
	"sort"
)

// Layout is the framing of an RPM file as stored, for code that rewrites
// packages (signing): the lead, the signature header and the main header,
// each exactly as read. The payload runs from PayloadStart to the end of
// the file.
type Layout struct {
	Lead      []byte
	Signature RawHeader // its Bytes include the padding to 8 bytes
	Header    RawHeader
	// HeaderStart is the file offset of the main header, just past the
	// padded signature header; PayloadStart is just past the main header.
	HeaderStart, PayloadStart int64
}

// RawHeader is one header structure as stored.
type RawHeader struct {
	// Bytes run from the header's magic to its end.
	Bytes []byte
	// Entries are the header's index entries, sorted by tag.
	Entries []Entry
}

// Entry is one index entry of a header with exactly its data: Count values
// of a fixed-size Type, or Count NUL-terminated strings.
type Entry struct {
	Tag, Type, Count uint32
	Data             []byte
}

// ReadLayout reads and validates the lead and both headers of the RPM of
// the given size in r, as Read does, and returns them raw.
func ReadLayout(r io.ReaderAt, size int64) (*Layout, error) {
	l, err := readLayout(r, size)
	if err != nil {
		return nil, err
	}
	return &Layout{
		Lead:         l.lead,
		Signature:    l.sig.rawHeader(),
		Header:       l.main.rawHeader(),
		HeaderStart:  l.sigEnd,
		PayloadStart: l.hdrEnd,
	}, nil
}

// Entry returns the entry of tag, if the header has one.
func (h *RawHeader) Entry(tag uint32) (Entry, bool) {
	i := sort.Search(len(h.Entries), func(i int) bool { return h.Entries[i].Tag >= tag })
	if i < len(h.Entries) && h.Entries[i].Tag == tag {
		return h.Entries[i], true
	}
	return Entry{}, false
}

// rawHeader returns a copy of h (whose bytes its strings share) with each
// entry's data sliced out of the copy's data store.
func (h *header) rawHeader() RawHeader {
	raw := bytes.Clone(h.raw)
	start := introSize + 16*len(h.index)
	data := raw[start : start+len(h.data)]
	out := RawHeader{Bytes: raw, Entries: make([]Entry, len(h.index))}
	for i, e := range h.index {
		end, _ := h.end(e) // checked when read
		out.Entries[i] = Entry{Tag: e.tag, Type: e.typ, Count: e.count, Data: data[e.offset:end:end]}
	}
	return out
}
