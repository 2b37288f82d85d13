package publish

import (
	"bytes"
	"fmt"

	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// signRaw returns the binary OpenPGP signature packet over data.
func signRaw(s *sign.Signer, data []byte) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.Detach(&buf, bytes.NewReader(data)); err != nil {
		return nil, err
	}
	sigs, err := sigfile.Split(buf.Bytes())
	if err != nil {
		return nil, err
	}
	if len(sigs) != 1 {
		return nil, fmt.Errorf("signer wrote %d signature packets, want 1", len(sigs))
	}
	return sigs[0], nil
}
