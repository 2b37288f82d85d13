package storetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/kabiforge/kabiforge/repo/store"
)

// ErrInjected is the error a Faulty store's failing write returns.
var ErrInjected = errors.New("injected store failure")

// Faulty wraps a store so that its FailAt-th write (Put, PutIfAbsent,
// CompareAndSwap or Delete, counted from 1) fails with ErrInjected. Reads
// always pass through. With After set the write is performed first and
// only its answer is lost, as when a connection drops after the server
// committed. A publish test runs its publish once per k until it completes
// without reaching FailAt, checking the repository after each failure.
type Faulty struct {
	store.Store
	FailAt int
	After  bool

	mu     sync.Mutex
	writes int
	failed bool
}

// Writes returns how many writes were attempted so far.
func (f *Faulty) Writes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.writes
}

// Failed reports whether the injected failure happened.
func (f *Faulty) Failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.failed
}

// next counts a write and reports whether it is the one to fail.
func (f *Faulty) next() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.writes++
	if f.writes == f.FailAt {
		f.failed = true
		return true
	}
	return false
}

func (f *Faulty) write(op, key string, do func() (store.Info, error)) (store.Info, error) {
	if !f.next() {
		return do()
	}
	if f.After {
		do()
	}
	return store.Info{}, fmt.Errorf("%s %s: write %d: %w", op, key, f.FailAt, ErrInjected)
}

// Put implements store.Store.
func (f *Faulty) Put(ctx context.Context, key string, r io.Reader) (store.Info, error) {
	return f.write("put", key, func() (store.Info, error) { return f.Store.Put(ctx, key, r) })
}

// PutIfAbsent implements store.Store.
func (f *Faulty) PutIfAbsent(ctx context.Context, key string, r io.Reader) (store.Info, error) {
	return f.write("put-if-absent", key, func() (store.Info, error) { return f.Store.PutIfAbsent(ctx, key, r) })
}

// CompareAndSwap implements store.Store.
func (f *Faulty) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (store.Info, error) {
	return f.write("compare-and-swap", key, func() (store.Info, error) { return f.Store.CompareAndSwap(ctx, key, version, r) })
}

// Delete implements store.Store.
func (f *Faulty) Delete(ctx context.Context, key string) error {
	_, err := f.write("delete", key, func() (store.Info, error) { return store.Info{}, f.Store.Delete(ctx, key) })
	return err
}
