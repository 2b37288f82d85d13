package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
)

// CheckConditionalWrites proves that the server honours If-None-Match and
// If-Match on PutObject by making both fail on a scratch key under
// .kabiforge-probe/. A server that silently ignores them (so that
// PutIfAbsent and CompareAndSwap would overwrite) yields ErrUnsupported; a
// server that rejects them with 501 yields ErrUnsupported too. Publishers
// call it once before trusting a new S3 endpoint.
func (s *S3) CheckConditionalWrites(ctx context.Context) (err error) {
	key := ".kabiforge-probe/" + rand.Text()
	defer func() {
		if derr := s.Delete(context.WithoutCancel(ctx), key); derr != nil && err == nil {
			err = derr
		}
	}()
	first, err := s.PutIfAbsent(ctx, key, strings.NewReader("first"))
	if err != nil {
		return fmt.Errorf("check conditional writes: %w", err)
	}
	_, err = s.PutIfAbsent(ctx, key, strings.NewReader("second"))
	switch {
	case err == nil:
		return fmt.Errorf("check conditional writes: %w: the server ignored If-None-Match: * and overwrote an object", ErrUnsupported)
	case !errors.Is(err, ErrConflict):
		return fmt.Errorf("check conditional writes: %w", err)
	}
	_, err = s.CompareAndSwap(ctx, key, `"00000000000000000000000000000000"`, strings.NewReader("third"))
	switch {
	case err == nil:
		return fmt.Errorf("check conditional writes: %w: the server ignored If-Match and overwrote an object", ErrUnsupported)
	case !errors.Is(err, ErrConflict):
		return fmt.Errorf("check conditional writes: %w", err)
	}
	if info, err := s.Stat(ctx, key); err != nil || info.Version != first.Version {
		return fmt.Errorf("check conditional writes: %w: a refused write changed the object", ErrUnsupported)
	}
	return nil
}
