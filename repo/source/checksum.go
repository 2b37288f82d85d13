package source

import (
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"hash"
	"strings"
)

// newHash returns the hash of an rpm-md checksum type: sha1 (or "sha"),
// sha224, sha256, sha384, sha512. md5 and unknown types are refused.
func newHash(typ string) (hash.Hash, error) {
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

// checkChecksum validates a checksum from metadata: a known type and hex of
// its length.
func checkChecksum(c Checksum) error {
	h, err := newHash(c.Type)
	if err != nil {
		return err
	}
	if len(c.Hex) != 2*h.Size() {
		return fmt.Errorf("%s checksum %q is not %d hex digits", c.Type, c.Hex, 2*h.Size())
	}
	if _, err := hex.DecodeString(c.Hex); err != nil {
		return fmt.Errorf("%s checksum %q is not hex", c.Type, c.Hex)
	}
	return nil
}

// verifyBytes checks data against c.
func verifyBytes(name string, data []byte, c Checksum) error {
	h, err := newHash(c.Type)
	if err != nil {
		return badInput(name, ErrMalformed, "%v", err)
	}
	h.Write(data)
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(c.Hex) {
		return badInput(name, ErrChecksum, "%s %s, metadata says %s", c.Type, got, c.Hex)
	}
	return nil
}
