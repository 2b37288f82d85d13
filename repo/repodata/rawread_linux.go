package repodata

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// readWhole reads a regular file with plain system calls into buf, grown
// as needed, and returns the bytes read and the file's modification time in
// Unix seconds. An RPM is read once, start to end,
// so the runtime poller os.Open registers files with only costs time
// (several system calls per file in a 500-package index).
func readWhole(path string, buf []byte) ([]byte, int64, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, 0, &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		return nil, 0, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFREG {
		return nil, 0, infile.NotRegular(path, fileMode(st.Mode))
	}
	if int64(cap(buf)) < st.Size {
		// Grow at least twofold, so that a run of ever larger packages
		// costs few allocations.
		buf = make([]byte, max(st.Size, 2*int64(cap(buf)), 64<<10))
	}
	buf = buf[:st.Size]
	for n := 0; n < len(buf); {
		m, err := syscall.Read(fd, buf[n:])
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return nil, 0, &os.PathError{Op: "read", Path: path, Err: err}
		}
		if m == 0 {
			return nil, 0, fmt.Errorf("read %s: %w (file shrank)", path, io.ErrUnexpectedEOF)
		}
		n += m
	}
	return buf, st.Mtim.Sec, nil
}

// fileMode is the fs.FileMode of the kind of file in a stat mode.
func fileMode(m uint32) fs.FileMode {
	switch m & syscall.S_IFMT {
	case syscall.S_IFIFO:
		return fs.ModeNamedPipe
	case syscall.S_IFSOCK:
		return fs.ModeSocket
	case syscall.S_IFCHR:
		return fs.ModeDevice | fs.ModeCharDevice
	case syscall.S_IFBLK:
		return fs.ModeDevice
	case syscall.S_IFDIR:
		return fs.ModeDir
	}
	return fs.ModeIrregular
}
