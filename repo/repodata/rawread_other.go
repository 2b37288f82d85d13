//go:build !linux

package repodata

import (
	"fmt"
	"io"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// readWhole reads a file and returns its bytes and modification time in
// Unix seconds; see the Linux version for why it exists.
func readWhole(path string, _ []byte) ([]byte, int64, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, err
	}
	b := make([]byte, fi.Size())
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	return b, fi.ModTime().Unix(), nil
}
