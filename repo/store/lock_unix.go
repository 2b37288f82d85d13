//go:build unix

package store

import (
	"os"
	"syscall"
)

func lockFile(f *os.File) error   { return syscall.Flock(int(f.Fd()), syscall.LOCK_EX) }
func unlockFile(f *os.File) error { return syscall.Flock(int(f.Fd()), syscall.LOCK_UN) }

// fileID names one version of a file: written files are always renamed into
// place, so a new content means a new inode.
type fileID struct {
	dev, ino     uint64
	size, mtimeN int64
}

func idOf(fi os.FileInfo) (fileID, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileID{}, false
	}
	return fileID{uint64(st.Dev), uint64(st.Ino), fi.Size(), fi.ModTime().UnixNano()}, true
}
