// Package sha256x2 computes the SHA-256 digests of two byte streams at once.
//
// Indexing a package takes two digests of nearly the same bytes: the file's
// (its checksum in the metadata) and its payload's (which the package
// records, and which is checked). With the x86 SHA extensions, a round of
// SHA-256 mostly waits on the round before it, so a Pair interleaves the two
// streams' rounds and takes about the time of one digest for both. Elsewhere,
// or in FIPS 140 mode, it runs crypto/sha256 on each stream.
package sha256x2

import (
	"crypto/fips140"
	"crypto/sha256"
	"encoding/binary"
	"hash"
)

// Pair is a SHA-256 digest of two streams, a and b. Its zero value is not
// ready for use: call New.
type Pair struct {
	a, b state
	// ha and hb, when set, hash the streams instead (no SHA extensions).
	ha, hb hash.Hash
}

// New returns a Pair with both streams empty.
func New() *Pair {
	p := &Pair{}
	if !hasSHANI || fips140.Enabled() {
		p.ha, p.hb = sha256.New(), sha256.New()
		return p
	}
	p.a.reset()
	p.b.reset()
	return p
}

// Write appends a to stream a and b to stream b.
func (p *Pair) Write(a, b []byte) {
	if p.ha != nil {
		p.ha.Write(a)
		p.hb.Write(b)
		return
	}
	a, b = p.a.fill(a), p.b.fill(b)
	n := min(len(a), len(b)) &^ (blockSize - 1)
	if n > 0 {
		blocks2(&p.a.h, a[:n], &p.b.h, b[:n])
		a, b = a[n:], b[n:]
	}
	p.a.rest(a)
	p.b.rest(b)
}

// Sums returns the digests of the two streams so far.
func (p *Pair) Sums() (a, b [sha256.Size]byte) {
	if p.ha != nil {
		p.ha.Sum(a[:0])
		p.hb.Sum(b[:0])
		return a, b
	}
	return p.a.sum(), p.b.sum()
}

const blockSize = 64

// state is one stream's digest: the chaining value, the bytes of a block
// not yet full, and the length so far.
type state struct {
	h    [8]uint32
	buf  [blockSize]byte
	nbuf int
	len  uint64
}

func (s *state) reset() {
	*s = state{h: [8]uint32{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19}}
}

// fill counts p, completes the buffered block from it and returns the rest
// of p.
func (s *state) fill(p []byte) []byte {
	s.len += uint64(len(p))
	if s.nbuf == 0 {
		return p
	}
	n := copy(s.buf[s.nbuf:], p)
	s.nbuf += n
	if s.nbuf == blockSize {
		one(&s.h, s.buf[:])
		s.nbuf = 0
	}
	return p[n:]
}

// rest compresses p's whole blocks alone and buffers what is left; p
// follows a fill, so the buffer is empty unless p is.
func (s *state) rest(p []byte) {
	if n := len(p) &^ (blockSize - 1); n > 0 {
		one(&s.h, p[:n])
		p = p[n:]
	}
	s.nbuf += copy(s.buf[s.nbuf:], p)
}

// sum pads a copy of s and returns its digest.
func (s *state) sum() [sha256.Size]byte {
	d := *s
	var pad [2 * blockSize]byte
	pad[0] = 0x80
	n := blockSize - 8 - d.nbuf
	if n <= 0 {
		n += blockSize
	}
	binary.BigEndian.PutUint64(pad[n:], d.len*8)
	d.rest(d.fill(pad[:n+8])) // ends on a block boundary
	var out [sha256.Size]byte
	for i, v := range d.h {
		binary.BigEndian.PutUint32(out[4*i:], v)
	}
	return out
}

// one compresses p's whole blocks into h, with a throwaway second stream.
func one(h *[8]uint32, p []byte) {
	var spare [8]uint32
	blocks2(h, p, &spare, p)
}
