package storetest_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/repo/store"
	"github.com/kabiforge/kabiforge/repo/store/storetest"
)

func TestFaultyFailsOnlyTheKthWrite(t *testing.T) {
	for _, after := range []bool{false, true} {
		d, _ := store.OpenDir(t.TempDir())
		f := &storetest.Faulty{Store: d, FailAt: 2, After: after}
		ctx := t.Context()
		if _, err := f.Put(ctx, "a", strings.NewReader("1")); err != nil {
			t.Fatalf("write 1: %v", err)
		}
		_, err := f.PutIfAbsent(ctx, "b", strings.NewReader("2"))
		if !errors.Is(err, storetest.ErrInjected) || !f.Failed() {
			t.Errorf("write 2 error = %v, want ErrInjected", err)
		}
		if _, err := d.Stat(ctx, "b"); after != (err == nil) {
			t.Errorf("After=%v: write 2 reached the store: %v", after, err == nil)
		}
		if err := f.Delete(ctx, "a"); err != nil || f.Writes() != 3 {
			t.Errorf("write 3: %v, %d writes counted", err, f.Writes())
		}
		if _, _, err := f.Get(ctx, "a"); !errors.Is(err, store.ErrNotExist) {
			t.Errorf("reads do not pass through: %v", err)
		}
	}
}

// The wrapper is itself a store: it passes the contract while it never fails.
func TestFaultyPassesTheContract(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		d, _ := store.OpenDir(t.TempDir())
		return &storetest.Faulty{Store: d}
	}, storetest.Options{LargeSize: 1 << 20})
}
