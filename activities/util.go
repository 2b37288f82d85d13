package activities

import (
	"bytes"
	"errors"
	"io"
	"os"
	"slices"

	"go.temporal.io/sdk/temporal"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

func mkdir(d string) error {
	if err := os.MkdirAll(d, 0o755); err != nil {
		return infra("make "+d, err)
	}
	return nil
}

// badInputOr classifies err, treating anything not otherwise classified as
// bad input (a spec that cannot be retargeted).
func badInputOr(op string, err error) error {
	if c := classify(op, err); c != nil {
		var app *temporal.ApplicationError
		if errors.As(c, &app) {
			return c
		}
	}
	return temporal.NewNonRetryableApplicationError(op+": "+err.Error(), ErrBadInput, err)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
