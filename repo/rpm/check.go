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

// layout is the framing of an RPM file: the lead, the signature header,
// the main header and where each ends.
type layout struct {
	lead           []byte
	sig, main      *header
	sigEnd, hdrEnd int64
}

// readLayout reads and validates the lead and both headers, so that a
// truncated or corrupt file yields an error instead of a panic or a huge
// allocation.
func readLayout(r io.ReaderAt, size int64) (*layout, error) {
	lead := make([]byte, leadSize)
	if _, err := r.ReadAt(lead, 0); err != nil {
		return nil, fmt.Errorf("read lead: %w", truncated(err))
	}
	if binary.BigEndian.Uint32(lead) != 0xedabeedb {
		return nil, fmt.Errorf("not an RPM (bad lead magic)")
	}
	l := layout{lead: lead}
	var err error
	if l.sig, l.sigEnd, err = readHeaderAt(r, size, leadSize, "signature header", true); err != nil {
		return nil, err
	}
	if l.main, l.hdrEnd, err = readHeaderAt(r, size, l.sigEnd, "header", false); err != nil {
		return nil, err
	}
	return &l, nil
}

func truncated(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
