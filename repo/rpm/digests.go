package rpm

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// Tags of the digests and sizes an RPM records about itself.
const (
	sigTagSize           = 1000 // header+payload size (32-bit)
	sigTagLongSize       = 270  // header+payload size (64-bit)
	sigTagMD5            = 1004 // MD5 of header+payload
	sigTagSHA1Header     = 269  // hex SHA-1 of the main header
	sigTagSHA256Header   = 273  // hex SHA-256 of the main header
	tagPayloadDigest     = 5092 // hex digests of the compressed payload
	tagPayloadDigestAlgo = 5093 // OpenPGP hash algorithm id of those
)

// Digests checks a package against the digests it records: the main
// header's SHA-256 and SHA-1 (checked by NewDigests), the payload digest of
// the main header, the MD5 over header and payload of old packages, and the
// header+payload size of the signature header. Write the payload to it, then
// call Check. It is what `rpmkeys --checksig` checks short of signatures.
type Digests struct {
	payload  hash.Hash
	algo     uint32 // payload's OpenPGP hash algorithm id
	want     string
	md5      hash.Hash
	md5want  []byte
	size     int64 // header+payload size recorded, -1 when none
	written  int64 // payload bytes written
	hdrBytes int64
}

// NewDigests checks l's header digests and returns a Digests for its payload.
func NewDigests(l *Layout) (*Digests, error) {
	return newDigests(&l.Signature, &l.Header, l.Header.Bytes)
}

// tagData is a header whose entries' data can be looked up by tag: a
// RawHeader, or a header as read.
type tagData interface {
	tagData(tag uint32) ([]byte, bool)
}

func (h *RawHeader) tagData(tag uint32) ([]byte, bool) {
	e, ok := h.Entry(tag)
	return e.Data, ok
}

func (h *header) tagData(tag uint32) ([]byte, bool) {
	e, ok := h.find(int(tag))
	if !ok {
		return nil, false
	}
	end, _ := h.end(e) // checked when read
	return h.data[e.offset:end:end], true
}

// newDigests checks the main header (main, stored as mainBytes) against the
// digests in the signature header sig and returns a Digests for the payload.
//
// The MD5 over header and payload that older rpm versions record is only
// checked when a SHA-256 header digest and a payload digest do not both
// cover those bytes: checking it too would add nothing but time (a kernel's
// packages are over 100 MB), as newer rpm versions decided.
func newDigests(sig, main tagData, mainBytes []byte) (*Digests, error) {
	if err := checkHeaderDigests(sig, mainBytes); err != nil {
		return nil, err
	}
	d := &Digests{size: -1, hdrBytes: int64(len(mainBytes))}
	if want := tagString(main, tagPayloadDigest); want != "" {
		algo := uint32(0)
		if data, ok := main.tagData(tagPayloadDigestAlgo); ok && len(data) >= 4 {
			algo = binary.BigEndian.Uint32(data)
		}
		newHash, ok := payloadHashes[algo]
		if !ok {
			return nil, fmt.Errorf("unsupported payload digest algorithm %d", algo)
		}
		d.payload, d.algo, d.want = newHash(), algo, want
	}
	strong := d.payload != nil && tagString(sig, sigTagSHA256Header) != ""
	if data, ok := sig.tagData(sigTagMD5); ok && len(data) > 0 && !strong {
		d.md5, d.md5want = md5.New(), data
		d.md5.Write(mainBytes)
	}
	if d.payload == nil && d.md5 == nil {
		return nil, errors.New("package has neither a payload digest nor an MD5 digest")
	}
	if data, ok := sig.tagData(sigTagLongSize); ok && len(data) >= 8 {
		d.size = int64(binary.BigEndian.Uint64(data))
	} else if data, ok := sig.tagData(sigTagSize); ok && len(data) >= 4 {
		d.size = int64(binary.BigEndian.Uint32(data))
	}
	return d, nil
}

// Write feeds payload bytes to the digests.
func (d *Digests) Write(p []byte) (int, error) {
	if d.payload != nil {
		d.payload.Write(p)
	}
	if d.md5 != nil {
		d.md5.Write(p)
	}
	d.written += int64(len(p))
	return len(p), nil
}

// Check compares what was written with the recorded digests and size.
func (d *Digests) Check() error {
	var sum []byte
	if d.payload != nil {
		sum = d.payload.Sum(nil)
	}
	return d.check(sum)
}

// PayloadSHA256 reports whether the payload is checked against a SHA-256
// digest alone. A caller that takes that digest itself, with others of the
// same bytes, passes it to CheckSHA256 instead of writing the payload.
func (d *Digests) PayloadSHA256() bool {
	return d.payload != nil && d.algo == algoSHA256 && d.md5 == nil
}

// CheckSHA256 is Check for a payload of n bytes whose SHA-256 digest, taken
// by the caller, is sum; it needs PayloadSHA256, and nothing written.
func (d *Digests) CheckSHA256(sum [sha256.Size]byte, n int64) error {
	if !d.PayloadSHA256() || d.written != 0 {
		return errors.New("payload digest: not a SHA-256 taken by the caller")
	}
	d.written = n
	return d.check(sum[:])
}

// check compares the payload's size and digest sum, and the MD5 when there
// is one, with those recorded.
func (d *Digests) check(sum []byte) error {
	if d.size >= 0 && d.hdrBytes+d.written != d.size {
		if d.hdrBytes+d.written < d.size {
			return fmt.Errorf("file is truncated: its header says %d bytes of header and payload, it has %d", d.size, d.hdrBytes+d.written)
		}
		return fmt.Errorf("%d bytes after the end its header records: the package is corrupt", d.hdrBytes+d.written-d.size)
	}
	if d.payload != nil && hex.EncodeToString(sum) != d.want {
		return errors.New("payload digest mismatch: the package is corrupt or truncated")
	}
	if d.md5 != nil && !bytes.Equal(d.md5.Sum(nil), d.md5want) {
		return errors.New("MD5 digest mismatch: the package is corrupt or truncated")
	}
	return nil
}

// algoSHA256 is SHA-256's OpenPGP hash algorithm id.
const algoSHA256 = 8

// payloadHashes are the OpenPGP hash algorithm ids rpm records for payload
// digests.
var payloadHashes = map[uint32]func() hash.Hash{
	1: md5.New, 2: sha1.New, algoSHA256: sha256.New, 9: sha512.New384, 10: sha512.New, 11: sha256.New224,
}

// checkHeaderDigests compares the main header, stored as mainBytes, with
// the SHA-256 and SHA-1 digests recorded in the signature header sig.
func checkHeaderDigests(sig tagData, mainBytes []byte) error {
	for _, d := range []struct {
		tag  uint32
		name string
		new  func() hash.Hash
	}{{sigTagSHA256Header, "SHA-256", sha256.New}, {sigTagSHA1Header, "SHA-1", sha1.New}} {
		want := tagString(sig, d.tag)
		if want == "" {
			continue
		}
		h := d.new()
		h.Write(mainBytes)
		if hex.EncodeToString(h.Sum(nil)) != want {
			return fmt.Errorf("header %s digest mismatch: the package is corrupt", d.name)
		}
	}
	return nil
}

// tagString is the first string of tag in h, or "".
func tagString(h tagData, tag uint32) string {
	data, ok := h.tagData(tag)
	if !ok {
		return ""
	}
	s, _, _ := bytes.Cut(data, []byte{0})
	return string(s)
}

// CheckDigests reads the RPM of the given size in r and checks its headers,
// payload and size against the digests it records (see Digests).
func CheckDigests(r io.ReaderAt, size int64) error {
	l, err := ReadLayout(r, size)
	if err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return fmt.Errorf("file is truncated: %w", err)
		}
		return err
	}
	d, err := NewDigests(l)
	if err != nil {
		return err
	}
	if _, err := io.Copy(d, io.NewSectionReader(r, l.PayloadStart, size-l.PayloadStart)); err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	return d.Check()
}

// CheckFile is CheckDigests on the regular file at path; its errors name
// path, and a mismatch is a *CorruptError.
func CheckFile(path string) error {
	f, err := infile.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if err := CheckDigests(f, fi.Size()); err != nil {
		return &CorruptError{Path: path, Err: err}
	}
	return nil
}

// CorruptError is a package that does not match the digests or size it
// records: truncated, or changed after it was built or signed.
type CorruptError struct {
	Path string
	Err  error
}

func (e *CorruptError) Error() string { return e.Path + ": " + e.Err.Error() }

func (e *CorruptError) Unwrap() error { return e.Err }

// CheckFiles checks every package at paths with CheckFile, all of them
// before the caller changes anything, and returns the first problem. It
// stops when ctx is done.
func CheckFiles(ctx context.Context, paths []string) error {
	for _, p := range paths {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := CheckFile(p); err != nil {
			return err
		}
	}
	return nil
}
