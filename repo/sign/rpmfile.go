package sign

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"
)

// RPM file layout: a 96-byte lead, the signature header (padded to 8 bytes),
// the main header, then the compressed payload up to the end of the file.
const (
	leadSize    = 96
	introSize   = 16
	indexSize   = 16
	maxTags     = 0xffff     // rpm refuses more index entries than this
	maxDataSize = 0x0fffffff // and data stores larger than this
)

var (
	leadMagic   = []byte{0xed, 0xab, 0xee, 0xdb}
	headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01}
)

// Header tag data types.
const (
	typeNull = iota
	typeChar
	typeInt8
	typeInt16
	typeInt32
	typeInt64
	typeString
	typeBin
	typeStringArray
	typeI18N
)

// Tags used in the signature header (raw values, as stored in the file) and
// the main header.
const (
	tagHeaderSignatures = 62
	tagDSAHeader        = 267 // OpenPGP signature over the main header (DSA, EdDSA)
	tagRSAHeader        = 268 // OpenPGP signature over the main header (RSA)
	tagSHA1Header       = 269 // hex SHA-1 of the main header
	tagSHA256Header     = 273 // hex SHA-256 of the main header
	tagOpenPGP          = 278 // rpm 4.20+: signature array
	tagPGP              = 1002
	tagMD5              = 1004 // MD5 of main header + payload
	tagGPG              = 1005
	tagReservedSpace    = 1008

	tagPayloadDigest     = 5092
	tagPayloadDigestAlgo = 5093
)

// headerEntry is one index entry of a header with its raw data.
type headerEntry struct {
	tag, typ int32
	count    int32
	data     []byte
}

// header is a parsed RPM header: its entries and the exact bytes it was read from.
type header struct {
	entries map[int32]headerEntry
	raw     []byte
}

// rpmFile is the parsed framing of an RPM: everything but the payload.
type rpmFile struct {
	lead      []byte
	sig       *header // raw includes the padding to 8 bytes
	main      *header
	mainStart int64 // file offset of the main header
	dataStart int64 // file offset of the payload
}

// readRPMHeaders reads the lead, signature header and main header from r,
// leaving r positioned at the start of the payload.
func readRPMHeaders(r io.Reader) (*rpmFile, error) {
	lead := make([]byte, leadSize)
	if _, err := io.ReadFull(r, lead); err != nil {
		return nil, fmt.Errorf("read lead: %w", truncated(err))
	}
	if !bytes.Equal(lead[:4], leadMagic) {
		return nil, errors.New("not an RPM file (bad lead magic)")
	}
	sig, err := readHeader(r, true)
	if err != nil {
		return nil, fmt.Errorf("signature header: %w", err)
	}
	mainStart := int64(leadSize + len(sig.raw))
	main, err := readHeader(r, false)
	if err != nil {
		return nil, fmt.Errorf("main header: %w", err)
	}
	return &rpmFile{
		lead:      lead,
		sig:       sig,
		main:      main,
		mainStart: mainStart,
		dataStart: mainStart + int64(len(main.raw)),
	}, nil
}

func truncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("file is truncated")
	}
	return err
}

// readHeader reads one header structure; the signature header is padded to
// a multiple of 8 bytes.
func readHeader(r io.Reader, padded bool) (*header, error) {
	intro := make([]byte, introSize)
	if _, err := io.ReadFull(r, intro); err != nil {
		return nil, truncated(err)
	}
	if !bytes.Equal(intro[:4], headerMagic) {
		return nil, errors.New("bad header magic")
	}
	nindex := binary.BigEndian.Uint32(intro[8:12])
	hsize := binary.BigEndian.Uint32(intro[12:16])
	if nindex == 0 || nindex > maxTags || hsize > maxDataSize {
		return nil, fmt.Errorf("implausible header size (%d entries, %d bytes)", nindex, hsize)
	}
	size := int(nindex)*indexSize + int(hsize)
	if padded {
		size += (8 - (introSize+size)%8) % 8
	}
	// Grow the buffer as data arrives: a corrupt size in a short file must
	// not allocate the whole claimed size up front.
	var buf bytes.Buffer
	buf.Write(intro)
	if n, err := io.CopyN(&buf, r, int64(size)); err != nil || n != int64(size) {
		return nil, truncated(io.ErrUnexpectedEOF)
	}
	raw := buf.Bytes()
	entries, err := parseIndex(raw[introSize:introSize+int(nindex)*indexSize], raw[introSize+int(nindex)*indexSize:][:hsize])
	if err != nil {
		return nil, err
	}
	return &header{entries: entries, raw: raw}, nil
}

// parseIndex decodes the index entries, bounding every one by the data store.
// Only binary and string data are sliced exactly; other types keep the bytes
// from their offset on, which is all this package needs.
func parseIndex(index, data []byte) (map[int32]headerEntry, error) {
	entries := make(map[int32]headerEntry, len(index)/indexSize)
	for i := 0; i < len(index); i += indexSize {
		e := headerEntry{
			tag:   int32(binary.BigEndian.Uint32(index[i:])),
			typ:   int32(binary.BigEndian.Uint32(index[i+4:])),
			count: int32(binary.BigEndian.Uint32(index[i+12:])),
		}
		off := int32(binary.BigEndian.Uint32(index[i+8:]))
		if e.tag == tagHeaderSignatures || e.tag == 63 { // region markers
			continue
		}
		if off < 0 || int(off) > len(data) || e.count < 0 {
			return nil, fmt.Errorf("tag %d: offset %d outside the header data", e.tag, off)
		}
		end, err := entryEnd(e, data, int(off))
		if err != nil {
			return nil, err
		}
		e.data = data[off:end]
		entries[e.tag] = e
	}
	return entries, nil
}

func entryEnd(e headerEntry, data []byte, off int) (int, error) {
	if n := fixedSize(e.typ); n > 0 {
		end := off + n*int(e.count)
		if end > len(data) || end < off {
			return 0, fmt.Errorf("tag %d: data runs past the header", e.tag)
		}
		return end, nil
	}
	if e.typ != typeString && e.typ != typeStringArray && e.typ != typeI18N {
		return 0, fmt.Errorf("tag %d: unknown data type %d", e.tag, e.typ)
	}
	end := off
	for range e.count {
		nul := bytes.IndexByte(data[end:], 0)
		if nul < 0 {
			return 0, fmt.Errorf("tag %d: unterminated string", e.tag)
		}
		end += nul + 1
	}
	return end, nil
}

// fixedSize is the size of one value of a fixed-size type, 0 for strings.
func fixedSize(typ int32) int {
	switch typ {
	case typeNull, typeChar, typeInt8, typeBin:
		return 1
	case typeInt16:
		return 2
	case typeInt32:
		return 4
	case typeInt64:
		return 8
	}
	return 0
}

// str returns a string entry's value, or "" when absent or not a string.
func (h *header) str(tag int32) string {
	e, ok := h.entries[tag]
	if !ok || e.typ != typeString && e.typ != typeStringArray || len(e.data) == 0 {
		return ""
	}
	return string(e.data[:len(e.data)-1])
}

// uint32Value returns the first value of an INT32 entry.
func (h *header) uint32Value(tag int32) (uint32, bool) {
	e, ok := h.entries[tag]
	if !ok || e.typ != typeInt32 || len(e.data) < 4 {
		return 0, false
	}
	return binary.BigEndian.Uint32(e.data), true
}

// bin returns a BIN entry's bytes, or nil.
func (h *header) bin(tag int32) []byte {
	e, ok := h.entries[tag]
	if !ok || e.typ != typeBin {
		return nil
	}
	return e.data
}

// encodeSignatureHeader serialises signature header entries in rpm's layout:
// a region tag first, entries sorted by tag, data aligned by type, the region
// trailer last, and the whole padded to 8 bytes.
func encodeSignatureHeader(entries map[int32]headerEntry) []byte {
	tags := make([]int32, 0, len(entries))
	for t := range entries {
		if t != tagHeaderSignatures {
			tags = append(tags, t)
		}
	}
	sort.Slice(tags, func(i, j int) bool { return tags[i] < tags[j] })
	var index, data bytes.Buffer
	putEntry := func(buf *bytes.Buffer, tag, typ, off, count int32) {
		var b [indexSize]byte
		binary.BigEndian.PutUint32(b[0:], uint32(tag))
		binary.BigEndian.PutUint32(b[4:], uint32(typ))
		binary.BigEndian.PutUint32(b[8:], uint32(off))
		binary.BigEndian.PutUint32(b[12:], uint32(count))
		buf.Write(b[:])
	}
	for _, t := range tags {
		e := entries[t]
		if a := fixedSize(e.typ); a > 1 && data.Len()%a != 0 {
			data.Write(make([]byte, a-data.Len()%a))
		}
		putEntry(&index, e.tag, e.typ, int32(data.Len()), e.count)
		data.Write(e.data)
	}
	nindex := len(tags) + 1
	trailerOff := int32(data.Len())
	putEntry(&data, tagHeaderSignatures, typeBin, int32(-indexSize*nindex), indexSize)

	var out bytes.Buffer
	out.Write(headerMagic)
	out.Write([]byte{0, 0, 0, 0})
	_ = binary.Write(&out, binary.BigEndian, uint32(nindex))
	_ = binary.Write(&out, binary.BigEndian, uint32(data.Len()))
	putEntry(&out, tagHeaderSignatures, typeBin, trailerOff, indexSize)
	out.Write(index.Bytes())
	out.Write(data.Bytes())
	if pad := out.Len() % 8; pad != 0 {
		out.Write(make([]byte, 8-pad))
	}
	return out.Bytes()
}
