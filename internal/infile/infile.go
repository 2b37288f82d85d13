// Package infile opens the files kabiforge reads as input. It refuses what
// is not a regular file (a named pipe, a device, a socket) without blocking,
// so an endless or stalled input can never hang a command that must stop on
// a signal.
package infile

import (
	"fmt"
	"io/fs"
	"os"
	"syscall"
)

// Open opens the regular file at path for reading. Anything else is refused
// with an error naming path and what it is; opening a named pipe does not
// wait for a writer.
func Open(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, NotRegular(path, fi.Mode())
	}
	// O_NONBLOCK means nothing for a regular file's reads; clear it anyway
	// so the descriptor is an ordinary one.
	if err := syscall.SetNonblock(int(f.Fd()), false); err != nil {
		f.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return f, nil
}

// ReadFile reads the regular file at path, refusing other kinds of file and
// files larger than max bytes (no limit when max <= 0).
func ReadFile(path string, max int64) ([]byte, error) {
	f, err := Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if max > 0 && fi.Size() > max {
		return nil, fmt.Errorf("%s: %d bytes, more than the %d read from such a file", path, fi.Size(), max)
	}
	buf := make([]byte, fi.Size())
	n, err := f.ReadAt(buf, 0)
	if err != nil && n < len(buf) {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return buf, nil
}

// NotRegular is the error for path, which has mode and is not a regular file.
func NotRegular(path string, mode fs.FileMode) error {
	return fmt.Errorf("%s: is %s, not a regular file; kabiforge reads inputs only from regular files", path, kind(mode))
}

func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m.IsDir():
		return "a directory"
	}
	return "a special file"
}
