package boot

import (
	"compress/gzip"
	"fmt"
	"io"
	"path"
	"strings"
)

// cpio newc mode bits.
const (
	modeDir  = 0o040000
	modeFile = 0o100000
	modeChr  = 0o020000
)

// Initramfs writes a gzip-compressed cpio archive in the "newc" format the
// kernel unpacks as its initial root file system. Parent directories are
// added on first use. Call Close to write the trailer.
type Initramfs struct {
	gz   *gzip.Writer
	ino  uint32
	dirs map[string]bool
	err  error
}

// NewInitramfs returns an Initramfs writing to w.
func NewInitramfs(w io.Writer) *Initramfs {
	gz, _ := gzip.NewWriterLevel(w, gzip.BestSpeed)
	return &Initramfs{gz: gz, dirs: map[string]bool{"": true, ".": true}}
}

// Dir adds a directory.
func (a *Initramfs) Dir(name string, perm uint32) error {
	name = clean(name)
	if a.dirs[name] {
		return a.err
	}
	a.parents(name)
	a.dirs[name] = true
	a.header(name, modeDir|perm&0o7777, 0, 0, 0)
	return a.err
}

// File adds a regular file with the given content.
func (a *Initramfs) File(name string, perm uint32, data []byte) error {
	name = clean(name)
	a.parents(name)
	a.header(name, modeFile|perm&0o7777, uint32(len(data)), 0, 0)
	a.write(data)
	a.pad(len(data))
	return a.err
}

// CharDev adds a character device node.
func (a *Initramfs) CharDev(name string, perm, major, minor uint32) error {
	name = clean(name)
	a.parents(name)
	a.header(name, modeChr|perm&0o7777, 0, major, minor)
	return a.err
}

// Close writes the trailer and flushes the compressor; it does not close the
// underlying writer.
func (a *Initramfs) Close() error {
	a.header("TRAILER!!!", 0, 0, 0, 0)
	if err := a.gz.Close(); err != nil && a.err == nil {
		a.err = fmt.Errorf("initramfs: %w", err)
	}
	return a.err
}

func clean(name string) string { return strings.TrimPrefix(path.Clean("/"+name), "/") }

func (a *Initramfs) parents(name string) {
	if dir := path.Dir(name); !a.dirs[dir] {
		_ = a.Dir(dir, 0o755)
	}
}

// header writes one newc header and the NUL-terminated, padded name.
func (a *Initramfs) header(name string, mode, size, rmajor, rminor uint32) {
	a.ino++
	nlink := uint32(1)
	if mode&modeDir != 0 {
		nlink = 2
	}
	h := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		a.ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(name)+1, 0)
	a.write([]byte(h + name + "\x00"))
	a.pad(len(h) + len(name) + 1)
}

func (a *Initramfs) pad(n int) {
	if r := n % 4; r != 0 {
		a.write(make([]byte, 4-r))
	}
}

func (a *Initramfs) write(b []byte) {
	if a.err != nil {
		return
	}
	if _, err := a.gz.Write(b); err != nil {
		a.err = fmt.Errorf("initramfs: %w", err)
	}
}
