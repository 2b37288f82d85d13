package sign

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// indexSize is the size of one header index entry.
const indexSize = 16

var headerMagic = []byte{0x8e, 0xad, 0xe8, 0x01}

// Tags used in the signature header (raw values, as stored in the file) and
// the main header.
const (
	tagHeaderSignatures = 62
	tagHeaderImmutable  = 63
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

// header is a parsed RPM header: its entries (without the region markers)
// and the exact bytes it was read from.
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
	layout    *rpm.Layout
}

// readRPMHeaders reads the lead, signature header and main header of the
// RPM of the given size in r with rpm.ReadLayout.
func readRPMHeaders(r io.ReaderAt, size int64) (*rpmFile, error) {
	l, err := rpm.ReadLayout(r, size)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("file is truncated: %w", err)
	}
	if err != nil {
		return nil, err
	}
	return &rpmFile{
		lead:      l.Lead,
		sig:       newHeader(l.Signature),
		main:      newHeader(l.Header),
		mainStart: l.HeaderStart,
		dataStart: l.PayloadStart,
		layout:    l,
	}, nil
}

// payloadReader reads f's payload from r, the whole file of size bytes.
func payloadReader(r io.ReaderAt, f *rpmFile, size int64) io.Reader {
	return bufio.NewReaderSize(io.NewSectionReader(r, f.dataStart, size-f.dataStart), 64<<10)
}

// newHeader keys h's entries by tag, leaving out the region markers, which
// encodeSignatureHeader writes itself.
func newHeader(h rpm.RawHeader) *header {
	entries := make(map[int32]headerEntry, len(h.Entries))
	for _, e := range h.Entries {
		if e.Tag == tagHeaderSignatures || e.Tag == tagHeaderImmutable {
			continue
		}
		entries[int32(e.Tag)] = headerEntry{tag: int32(e.Tag), typ: int32(e.Type), count: int32(e.Count), data: e.Data}
	}
	return &header{entries: entries, raw: h.Bytes}
}

// fixedSize is the size of one value of a fixed-size type, 0 for strings.
func fixedSize(typ int32) int {
	switch typ {
	case rpm.TypeChar, rpm.TypeInt8, rpm.TypeBin:
		return 1
	case rpm.TypeInt16:
		return 2
	case rpm.TypeInt32:
		return 4
	case rpm.TypeInt64:
		return 8
	}
	return 0
}

// str returns a string entry's value, or "" when absent or not a string.
func (h *header) str(tag int32) string {
	e, ok := h.entries[tag]
	if !ok || e.typ != rpm.TypeString && e.typ != rpm.TypeStringArray || len(e.data) == 0 {
		return ""
	}
	return string(e.data[:len(e.data)-1])
}

// bin returns a BIN entry's bytes, or nil.
func (h *header) bin(tag int32) []byte {
	e, ok := h.entries[tag]
	if !ok || e.typ != rpm.TypeBin {
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
	putEntry(&data, tagHeaderSignatures, rpm.TypeBin, int32(-indexSize*nindex), indexSize)

	var out bytes.Buffer
	out.Write(headerMagic)
	out.Write([]byte{0, 0, 0, 0})
	_ = binary.Write(&out, binary.BigEndian, uint32(nindex))
	_ = binary.Write(&out, binary.BigEndian, uint32(data.Len()))
	putEntry(&out, tagHeaderSignatures, rpm.TypeBin, trailerOff, indexSize)
	out.Write(index.Bytes())
	out.Write(data.Bytes())
	if pad := out.Len() % 8; pad != 0 {
		out.Write(make([]byte, 8-pad))
	}
	return out.Bytes()
}
