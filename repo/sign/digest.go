package sign

import (
	"bytes"
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
)

// checkHeaderDigests compares the main header with the SHA-256 and SHA-1
// digests recorded in the signature header.
func checkHeaderDigests(f *rpmFile) error {
	for _, d := range []struct {
		tag  int32
		name string
		new  func() hash.Hash
	}{{tagSHA256Header, "SHA-256", sha256.New}, {tagSHA1Header, "SHA-1", sha1.New}} {
		want := f.sig.str(d.tag)
		if want == "" {
			continue
		}
		h := d.new()
		h.Write(f.main.raw)
		if hex.EncodeToString(h.Sum(nil)) != want {
			return fmt.Errorf("header %s digest mismatch: the package is corrupt", d.name)
		}
	}
	return nil
}

// checkPayload reads the payload from r and checks it against the payload
// digest in the main header, or, for old packages without one, the MD5 of
// header and payload in the signature header. Each of whole is fed the main
// header and the payload, ready for signing or verifying a signature.
func checkPayload(f *rpmFile, r io.Reader, whole ...hash.Hash) error {
	var writers []io.Writer
	var payload, md5sum hash.Hash
	digest := f.main.str(tagPayloadDigest)
	if digest != "" {
		algo, _ := f.main.uint32Value(tagPayloadDigestAlgo)
		h, ok := hashByID(byte(algo))
		if !ok || algo > 255 {
			return fmt.Errorf("unsupported payload digest algorithm %d", algo)
		}
		payload = h.New()
		writers = append(writers, payload)
	}
	md5want := f.sig.bin(tagMD5)
	if len(md5want) > 0 {
		md5sum = md5.New()
		md5sum.Write(f.main.raw)
		writers = append(writers, md5sum)
	}
	for _, h := range whole {
		h.Write(f.main.raw)
		writers = append(writers, h)
	}
	if payload == nil && md5sum == nil {
		return errors.New("package has neither a payload digest nor an MD5 digest")
	}
	if _, err := io.Copy(io.MultiWriter(writers...), r); err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	if payload != nil && hex.EncodeToString(payload.Sum(nil)) != digest {
		return errors.New("payload digest mismatch: the package is corrupt or truncated")
	}
	if md5sum != nil && !bytes.Equal(md5sum.Sum(nil), md5want) {
		return errors.New("MD5 digest mismatch: the package is corrupt or truncated")
	}
	return nil
}
