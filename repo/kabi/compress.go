package kabi

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

var (
	magicGzip = []byte{0x1f, 0x8b}
	magicXz   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
	magicZstd = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// decompress returns r's content, decompressed when it starts with the
// magic of gzip, xz or zstd. name is used in errors.
func decompress(r io.Reader, name string) (io.ReadCloser, error) {
	br := bufio.NewReader(r)
	head, _ := br.Peek(6)
	switch {
	case bytes.HasPrefix(head, magicGzip):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("gunzip %s: %w", name, err)
		}
		return zr, nil
	case bytes.HasPrefix(head, magicXz):
		xr, err := xz.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("unxz %s: %w", name, err)
		}
		return io.NopCloser(xr), nil
	case bytes.HasPrefix(head, magicZstd):
		zr, err := zstd.NewReader(br)
		if err != nil {
			return nil, fmt.Errorf("unzstd %s: %w", name, err)
		}
		return zr.IOReadCloser(), nil
	}
	return io.NopCloser(br), nil
}
