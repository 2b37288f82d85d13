package store

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
)

// probe remembers the verdict of an S3 store's conditional-write check.
type probe struct {
	mu   sync.Mutex
	done bool
	err  error
}

// Verify checks that the server honours conditional writes (see trusted),
// so that a caller can refuse an endpoint before writing anything to it.
func (s *S3) Verify(ctx context.Context) error { return s.trusted(ctx) }

// trusted checks, once per S3 value (that is, once per endpoint and bucket
// for its user), that the server honours conditional writes before the
// first PutIfAbsent or CompareAndSwap relies on them: a server that ignores
// If-Match and If-None-Match would turn the publish compare-and-swap into
// a silent last-writer-wins. A refusal (ErrUnsupported) is remembered; any
// other failure of the check (the network, credentials) is tried again by
// the next conditional write.
func (s *S3) trusted(ctx context.Context) error {
	s.probe.mu.Lock()
	defer s.probe.mu.Unlock()
	if s.probe.done {
		return s.probe.err
	}
	err := s.CheckConditionalWrites(ctx)
	if errors.Is(err, ErrUnsupported) {
		err = fmt.Errorf("S3 endpoint %s, bucket %s: %w; kabiforge writes only to servers that honour If-Match and If-None-Match on PutObject", s.endpoint, s.bucket, err)
	}
	if err == nil || errors.Is(err, ErrUnsupported) {
		s.probe.done, s.probe.err = true, err
	}
	return err
}

// CheckConditionalWrites proves that the server honours If-None-Match and
// If-Match on PutObject by making both fail on a scratch key under
// .kabiforge-probe/. A server that silently ignores them (so that
// PutIfAbsent and CompareAndSwap would overwrite) yields ErrUnsupported; a
// server that rejects them with 501 yields ErrUnsupported too. The store
// calls it before its first conditional write (see trusted).
func (s *S3) CheckConditionalWrites(ctx context.Context) (err error) {
	key := ".kabiforge-probe/" + rand.Text()
	defer func() {
		if derr := s.Delete(context.WithoutCancel(ctx), key); derr != nil && err == nil {
			err = derr
		}
	}()
	first, err := s.putIfAbsent(ctx, key, strings.NewReader("first"))
	if err != nil {
		return fmt.Errorf("check conditional writes: %w", err)
	}
	_, err = s.putIfAbsent(ctx, key, strings.NewReader("second"))
	switch {
	case err == nil:
		return fmt.Errorf("check conditional writes: %w: the server ignored If-None-Match: * and overwrote an object", ErrUnsupported)
	case !errors.Is(err, ErrConflict):
		return fmt.Errorf("check conditional writes: %w", err)
	}
	_, err = s.compareAndSwap(ctx, key, `"00000000000000000000000000000000"`, strings.NewReader("third"))
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
