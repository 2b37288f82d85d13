package serve

import (
	"context"
	"errors"
	"io"

	"github.com/kabiforge/kabiforge/repo/store"
)

// rangeReader reads an object from a rangeOpener from wherever it was last
// sought to, pinned to the version of info. Seeking only moves pos; the open
// body (which starts at bodyPos) is replaced on the next Read if it is not
// at pos.
type rangeReader struct {
	ctx     context.Context
	open    rangeOpener
	info    store.Info
	pos     int64
	body    io.ReadCloser
	bodyPos int64
}

func (rr *rangeReader) Read(p []byte) (int, error) {
	if rr.pos >= rr.info.Size {
		return 0, io.EOF
	}
	if rr.body != nil && rr.bodyPos != rr.pos {
		rr.Close()
	}
	if rr.body == nil {
		body, err := rr.open.GetRange(rr.ctx, rr.info.Key, rr.info.Version, rr.pos, -1)
		if err != nil {
			return 0, err
		}
		rr.body, rr.bodyPos = body, rr.pos
	}
	n, err := rr.body.Read(p)
	rr.pos += int64(n)
	rr.bodyPos += int64(n)
	if err == io.EOF && rr.pos < rr.info.Size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (rr *rangeReader) Seek(offset int64, whence int) (int64, error) {
	pos := offset
	switch whence {
	case io.SeekCurrent:
		pos += rr.pos
	case io.SeekEnd:
		pos += rr.info.Size
	}
	if pos < 0 {
		return rr.pos, errors.New("seek before start")
	}
	rr.pos = pos
	return pos, nil
}

func (rr *rangeReader) Close() error {
	if rr.body == nil {
		return nil
	}
	err := rr.body.Close()
	rr.body = nil
	return err
}
