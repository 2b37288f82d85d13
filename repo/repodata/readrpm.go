package repodata

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"os"

	"github.com/kabiforge/kabiforge/internal/digest"
	"github.com/kabiforge/kabiforge/internal/infile"
	"github.com/kabiforge/kabiforge/internal/sha256x2"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// bigPackage is the size above which a package's headers are read, then
// the rest streamed, instead of the whole file read into memory: a
// kernel-modules package is over 20 MB, and each worker would hold one.
// A variable for tests only.
var bigPackage int64 = 1 << 20

// chunkSize is how much of a big package is read at a time: enough to make
// few system calls, little enough to stay in the CPU's cache while both
// digests read it.
const chunkSize = 256 << 10

// pkgReader reads packages, one at a time, into memory it reuses.
type pkgReader struct {
	whole []byte // a small package, read whole
	chunk []byte // a piece of a big package
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
	sums := newFileSums(d, rp.HeaderEnd)
	sums.write(b)
	sum, err := sums.check()
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return rp, sum, mtime, nil
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
	if r.chunk == nil {
		r.chunk = make([]byte, chunkSize)
	}
	sums := newFileSums(d, rp.HeaderEnd)
	for off := int64(0); off < size; {
		n, err := f.ReadAt(r.chunk[:min(chunkSize, size-off)], off)
		if err == io.EOF {
			err = fmt.Errorf("file is truncated: %w", io.ErrUnexpectedEOF)
		}
		if err != nil {
			return nil, "", 0, fmt.Errorf("read %s: %w", path, err)
		}
		sums.write(r.chunk[:n])
		off += int64(n)
	}
	sum, err := sums.check()
	if err != nil {
		return nil, "", 0, fmt.Errorf("%s: %w", path, err)
	}
	return rp, sum, fi.ModTime().Unix(), nil
}

// fileSums takes a package's digests as its bytes are read, in order: the
// file's SHA-256 (its checksum in the metadata) and its payload's, which d
// checks. When the payload's digest is a SHA-256 too, both are taken at
// once by a sha256x2.Pair.
type fileSums struct {
	pair         *sha256x2.Pair
	d            *rpm.Digests
	both         bool  // the pair takes the payload's digest
	payloadStart int64 // offset of the payload in the file
	off          int64 // bytes written
}

func newFileSums(d *rpm.Digests, payloadStart int64) *fileSums {
	return &fileSums{pair: sha256x2.New(), d: d, both: d.PayloadSHA256(), payloadStart: payloadStart}
}

// write takes the file's next bytes.
func (s *fileSums) write(b []byte) {
	var payload []byte
	if end := s.off + int64(len(b)); end > s.payloadStart {
		payload = b[max(s.payloadStart-s.off, 0):]
	}
	s.off += int64(len(b))
	if s.both {
		s.pair.Write(b, payload)
		return
	}
	s.pair.Write(b, nil)
	s.d.Write(payload)
}

// check checks the payload's digests and returns the file's SHA-256 in hex.
func (s *fileSums) check() (string, error) {
	file, payload := s.pair.Sums()
	var err error
	if s.both {
		err = s.d.CheckSHA256(payload, max(s.off-s.payloadStart, 0))
	} else {
		err = s.d.Check()
	}
	return hex.EncodeToString(file[:]), err
}
