// Package digest computes the checksums rpm-md repositories and stores use:
// a file's sha256, and the hash of an rpm-md checksum type.
package digest

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"
)

// File returns the hex sha256 of the file at path and its size.
func File(path string) (sum string, size int64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	if size, err = io.Copy(h, f); err != nil {
		return "", 0, fmt.Errorf("checksum %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// New returns the hash of an rpm-md checksum type, in any case: sha1 (or
// "sha"), sha224, sha256, sha384, sha512. md5 and unknown types are refused.
func New(typ string) (hash.Hash, error) {
	switch strings.ToLower(typ) {
	case "sha", "sha1":
		return sha1.New(), nil
	case "sha224":
		return sha256.New224(), nil
	case "sha256":
		return sha256.New(), nil
	case "sha384":
		return sha512.New384(), nil
	case "sha512":
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("checksum type %q not supported", typ)
}
