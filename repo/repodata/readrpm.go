package repodata

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"

	"github.com/kabiforge/kabiforge/internal/digest"
	"github.com/kabiforge/kabiforge/internal/infile"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// bigPackage is the size above which a package's headers are read, then
// the rest streamed, instead of the whole file read into memory: a
// kernel-modules package is over 20 MB, and each worker would hold one.
// A variable for tests only.
var bigPackage int64 = 1 << 20

// chunkSize is how much of a big package is read at a time: enough to make
// few system calls, little enough to stay in the CPU's cache while both
// digests read it; chunks is how many are in flight between them.
const (
	chunkSize = 256 << 10
	chunks    = 3
)

// pkgReader reads packages, one at a time, into memory it reuses.
type pkgReader struct {
	whole []byte      // a small package, read whole
	free  chan []byte // the chunks of a big package, when not in use
}

// read reads the package at path, its sha256 and its mtime (Unix seconds),
// and checks it against the digests and size it records: with open when
// given, else whole into memory, or in chunks when it is over bigPackage.
// The package keeps no reference to r's memory.
func (r *pkgReader) read(path string, open func(string) (*rpm.Package, error)) (*rpm.Package, string, int64, error) {
	if open != nil {
		return readOpened(path, open)
	}
	if fi, err := os.Stat(path); err == nil && fi.Size() > bigPackage {
		return r.readBig(path)
	}
	b, mtime, err := readWhole(path, r.whole)
	if err != nil {
		return nil, "", 0, err
	}
	r.whole = b
	rp, d, err := rpm.ReadChecked(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		return nil, "", 0, fmt.Errorf("read rpm %s: %w", path, err)
	}
	rp.Path = path
	d.Write(b[rp.HeaderEnd:])
	if err := d.Check(); err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", path, err)
	}
	sum := sha256.Sum256(b)
	return rp, hex.EncodeToString(sum[:]), mtime, nil
}

// readOpened reads the package at path with open, then checks its digests
// and checksums it.
func readOpened(path string, open func(string) (*rpm.Package, error)) (*rpm.Package, string, int64, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, "", 0, err
	}
	rp, err := open(path)
	if err != nil {
		return nil, "", 0, err
	}
	if rp.Size.Package != fi.Size() {
		return nil, "", 0, fmt.Errorf("%s changed while being indexed", path)
	}
	if err := rpm.CheckFile(path); err != nil {
		return nil, "", 0, err
	}
	sum, _, err := digest.File(path)
	return rp, sum, fi.ModTime().Unix(), err
}

// readBig reads a package's headers, then streams the file once, in
// chunks, into both its sha256 and the package's own digests (which it
// checks), so that memory stays small whatever the package's size.
func (r *pkgReader) readBig(path string) (*rpm.Package, string, int64, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, "", 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, "", 0, err
	}
	size := fi.Size()
	rp, d, err := rpm.ReadChecked(f, size)
	if err != nil {
		return nil, "", 0, fmt.Errorf("read rpm %s: %w", path, err)
	}
	rp.Path = path
	sum := sha256.New()
	if err := r.stream(f, size, rp.HeaderEnd, sum, d); err != nil {
		return nil, "", 0, fmt.Errorf("read %s: %w", path, err)
	}
	if err := d.Check(); err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return rp, hex.EncodeToString(sum.Sum(nil)), fi.ModTime().Unix(), nil
}

// stream reads the first size bytes of f into whole and those from
// payloadStart on into payload too. The payload's digests run in a second
// goroutine, a few chunks behind, so that the two digests of one package
// take two CPUs when there are: without that, the last package of an index
// would be read by one CPU while the other waits.
func (r *pkgReader) stream(f io.ReaderAt, size, payloadStart int64, whole hash.Hash, payload io.Writer) error {
	if r.free == nil {
		r.free = make(chan []byte, chunks)
		for range chunks {
			r.free <- make([]byte, chunkSize)
		}
	}
	type part struct {
		b          []byte // a chunk from r.free
		start, end int    // where the payload is in it
	}
	full := make(chan part, chunks)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for p := range full {
			payload.Write(p.b[p.start:p.end])
			r.free <- p.b
		}
	}()
	defer func() { close(full); <-done }()
	for off := int64(0); off < size; {
		b := <-r.free
		n, err := f.ReadAt(b[:min(int64(len(b)), size-off)], off)
		if err != nil {
			r.free <- b
			if err == io.EOF {
				return fmt.Errorf("file is truncated: %w", io.ErrUnexpectedEOF)
			}
			return err
		}
		whole.Write(b[:n])
		if end := off + int64(n); end > payloadStart {
			full <- part{b, int(max(payloadStart-off, 0)), n}
		} else {
			r.free <- b
		}
		off += int64(n)
	}
	return nil
}
