package sign

import (
	"fmt"
	"hash"
	"io"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// checkHeaderDigests compares the main header with the SHA-256 and SHA-1
// digests recorded in the signature header (rpm.NewDigests does).
func checkHeaderDigests(f *rpmFile) error {
	_, err := rpm.NewDigests(f.layout)
	return err
}

// checkPayload reads the payload from r and checks the package against the
// digests and size it records (rpm.Digests). Each of whole is fed the main
// header and the payload, ready for signing or verifying a signature.
func checkPayload(f *rpmFile, r io.Reader, whole ...hash.Hash) error {
	d, err := rpm.NewDigests(f.layout)
	if err != nil {
		return err
	}
	writers := []io.Writer{d}
	for _, h := range whole {
		h.Write(f.main.raw)
		writers = append(writers, h)
	}
	if _, err := io.Copy(io.MultiWriter(writers...), r); err != nil {
		return fmt.Errorf("read payload: %w", err)
	}
	return d.Check()
}
