package rpm

import (
	"encoding/binary"
	"fmt"
	"io"
)

// Limits rpm itself applies to a header (lib/header.c: hdrchkTags, hdrchkData).
const (
	maxIndexEntries = 0x00ffffff
	maxDataSize     = 0x3fffffff
	leadSize        = 96
	introSize       = 16
)

var headerMagic = [4]byte{0x8e, 0xad, 0xe8, 0x01}

// typeSizes gives the element size of fixed-size header types; 0 means a
// NUL-terminated string type.
var typeSizes = map[uint32]uint32{0: 0, 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 7: 1, 6: 0, 8: 0, 9: 0}

// checkLayout validates the lead and both headers before they are parsed, so
// that a truncated or corrupt file yields an error instead of a panic or a huge
// allocation. It returns the offsets where the main header starts and ends.
func checkLayout(r io.ReaderAt, size int64) (sigEnd, hdrEnd int64, err error) {
	lead := make([]byte, leadSize)
	if _, err := r.ReadAt(lead, 0); err != nil {
		return 0, 0, fmt.Errorf("read lead: %w", truncated(err))
	}
	if binary.BigEndian.Uint32(lead) != 0xedabeedb {
		return 0, 0, fmt.Errorf("not an RPM (bad lead magic)")
	}
	sigEnd, err = checkHeader(r, size, leadSize, "signature header", true)
	if err != nil {
		return 0, 0, err
	}
	hdrEnd, err = checkHeader(r, size, sigEnd, "header", false)
	return sigEnd, hdrEnd, err
}

func checkHeader(r io.ReaderAt, size, off int64, what string, pad bool) (int64, error) {
	intro := make([]byte, introSize)
	if _, err := r.ReadAt(intro, off); err != nil {
		return 0, fmt.Errorf("read %s at offset %d: %w", what, off, truncated(err))
	}
	if [4]byte(intro[:4]) != headerMagic {
		return 0, fmt.Errorf("%s at offset %d: bad magic", what, off)
	}
	il := binary.BigEndian.Uint32(intro[8:])
	dl := binary.BigEndian.Uint32(intro[12:])
	if il == 0 || il > maxIndexEntries || dl > maxDataSize {
		return 0, fmt.Errorf("%s at offset %d: implausible size (%d entries, %d data bytes)", what, off, il, dl)
	}
	end := off + introSize + int64(il)*16 + int64(dl)
	if pad {
		end = off + introSize + int64(il)*16 + (int64(dl)+7)/8*8
	}
	if end > size {
		return 0, fmt.Errorf("%s at offset %d: truncated (needs %d bytes, file has %d)", what, off, end, size)
	}
	index := make([]byte, int64(il)*16)
	if _, err := r.ReadAt(index, off+introSize); err != nil {
		return 0, fmt.Errorf("read %s index: %w", what, truncated(err))
	}
	data := make([]byte, dl)
	if _, err := r.ReadAt(data, off+introSize+int64(il)*16); err != nil {
		return 0, fmt.Errorf("read %s data: %w", what, truncated(err))
	}
	for i := range il {
		e := index[i*16:]
		if err := checkEntry(data, binary.BigEndian.Uint32(e), binary.BigEndian.Uint32(e[4:]),
			binary.BigEndian.Uint32(e[8:]), binary.BigEndian.Uint32(e[12:])); err != nil {
			return 0, fmt.Errorf("%s entry %d: %w", what, i, err)
		}
	}
	return end, nil
}

func checkEntry(data []byte, tag, typ, offset, count uint32) error {
	elem, ok := typeSizes[typ]
	if !ok {
		return fmt.Errorf("tag %d: unknown data type %d", tag, typ)
	}
	if count == 0 {
		return fmt.Errorf("tag %d: no values", tag)
	}
	if uint64(offset) > uint64(len(data)) {
		return fmt.Errorf("tag %d: offset %d beyond data (%d bytes)", tag, offset, len(data))
	}
	if elem > 0 {
		if uint64(offset)+uint64(elem)*uint64(count) > uint64(len(data)) {
			return fmt.Errorf("tag %d: %d values at offset %d overrun data", tag, count, offset)
		}
		return nil
	}
	rest := data[offset:]
	for range count {
		i := indexByte(rest, 0)
		if i < 0 {
			return fmt.Errorf("tag %d: unterminated string", tag)
		}
		rest = rest[i+1:]
	}
	return nil
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func truncated(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
