package source

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/kabiforge/kabiforge/internal/digest"
)

// checkChecksum validates a checksum from metadata: a known type and hex of
// its length.
func checkChecksum(c Checksum) error {
	h, err := digest.New(c.Type)
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
	h, err := digest.New(c.Type)
	if err != nil {
		return badInput(name, ErrMalformed, "%v", err)
	}
	h.Write(data)
	if got := hex.EncodeToString(h.Sum(nil)); got != strings.ToLower(c.Hex) {
		return badInput(name, ErrChecksum, "%s %s, metadata says %s", c.Type, got, c.Hex)
	}
	return nil
}
