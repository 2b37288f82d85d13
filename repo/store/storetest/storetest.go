// Package storetest is the contract every store.Store backend passes. A
// backend's test calls Run with a function returning a fresh, empty store.
package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/repo/store"
)

// Options tune the contract for a backend.
type Options struct {
	// LargeSize is the size of the large-object round trip; make it span
	// several multipart parts on S3. Zero means 11 MiB.
	LargeSize int64
	// ListKeys is how many keys the listing test writes; make it exceed the
	// backend's list page size. Zero means 25.
	ListKeys int
	// IgnoresConditionalMultipart marks a server that completes multipart
	// uploads without honouring If-None-Match / If-Match and reports a
	// different ETag than it later serves (gofakes3 v1.2.0); the large test
	// then checks only the content round trip.
	IgnoresConditionalMultipart bool
}

// Run checks that stores made by newStore behave as store.Store promises.
// Each subtest gets a new empty store.
func Run(t *testing.T, newStore func(t *testing.T) store.Store, opts Options) {
	if opts.LargeSize == 0 {
		opts.LargeSize = 11 << 20
	}
	if opts.ListKeys == 0 {
		opts.ListKeys = 25
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, s store.Store)
	}{
		{"PutGetStat", testPutGetStat},
		{"EmptyObject", testEmptyObject},
		{"Overwrite", testOverwrite},
		{"NotExist", testNotExist},
		{"List", func(t *testing.T, s store.Store) { testList(t, s, opts.ListKeys) }},
		{"PutIfAbsent", testPutIfAbsent},
		{"CompareAndSwap", testCompareAndSwap},
		{"RacingPutIfAbsent", testRacingPutIfAbsent},
		{"RacingCompareAndSwap", testRacingCompareAndSwap},
		{"ReadsDuringReplaces", testReadsDuringReplaces},
		{"Delete", testDelete},
		{"Large", func(t *testing.T, s store.Store) { testLarge(t, s, opts) }},
		{"InvalidKeys", testInvalidKeys},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newStore(t)) })
	}
}

// Racers is how many goroutines race in the conditional-write tests.
const Racers = 16

func put(t *testing.T, s store.Store, key, content string) store.Info {
	t.Helper()
	info, err := s.Put(t.Context(), key, bytes.NewReader([]byte(content)))
	if err != nil {
		t.Fatalf("Put(%q): %v", key, err)
	}
	return info
}

// mustRead returns the object's content, failing the test on error.
func mustRead(t *testing.T, s store.Store, key string) (string, store.Info) {
	t.Helper()
	rc, info, err := s.Get(t.Context(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read %q: %v", key, err)
	}
	return string(b), info
}

func testPutGetStat(t *testing.T, s store.Store) {
	const key, content = "repodata/repomd.xml", "<repomd/>\n"
	put1 := put(t, s, key, content)
	if put1.Key != key || put1.Size != int64(len(content)) || put1.Version == "" {
		t.Errorf("Put returned %+v, want key %q, size %d and a version", put1, key, len(content))
	}
	got, info := mustRead(t, s, key)
	if got != content {
		t.Errorf("Get = %q, want %q", got, content)
	}
	st, err := s.Stat(t.Context(), key)
	if err != nil {
		t.Fatalf("Stat: %v", err)
	}
	for _, i := range []store.Info{info, st} {
		if i.Key != key || i.Size != int64(len(content)) || i.Version != put1.Version || i.ModTime.IsZero() {
			t.Errorf("Info = %+v, want key %q, size %d, version %q and a time", i, key, len(content), put1.Version)
		}
	}
}

func testEmptyObject(t *testing.T, s store.Store) {
	put(t, s, "empty", "")
	if got, info := mustRead(t, s, "empty"); got != "" || info.Size != 0 {
		t.Errorf("Get(empty) = %q (size %d), want nothing", got, info.Size)
	}
}

func testOverwrite(t *testing.T, s store.Store) {
	v1 := put(t, s, "k", "one")
	v2 := put(t, s, "k", "two")
	if v1.Version == v2.Version {
		t.Errorf("versions of different contents are equal: %q", v1.Version)
	}
	if got, _ := mustRead(t, s, "k"); got != "two" {
		t.Errorf("Get after overwrite = %q, want %q", got, "two")
	}
}

func testNotExist(t *testing.T, s store.Store) {
	ctx := t.Context()
	if _, _, err := s.Get(ctx, "no/such"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Get(missing) error = %v, want ErrNotExist", err)
	}
	if _, err := s.Stat(ctx, "no/such"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Stat(missing) error = %v, want ErrNotExist", err)
	}
	if err := s.Delete(ctx, "no/such"); err != nil {
		t.Errorf("Delete(missing) = %v, want nil", err)
	}
}

func listKeys(t *testing.T, s store.Store, prefix string) []string {
	t.Helper()
	var keys []string
	for info, err := range s.List(t.Context(), prefix) {
		if err != nil {
			t.Fatalf("List(%q): %v", prefix, err)
		}
		keys = append(keys, info.Key)
	}
	return keys
}

func testList(t *testing.T, s store.Store, n int) {
	var many []string
	for i := range n {
		many = append(many, fmt.Sprintf("many/%04d.rpm", i))
	}
	others := []string{"repodata/a.xml", "repodata/b.xml.gz", "repodata.x", "repo", "packages/k/kernel.rpm"}
	// Write in reverse so listing order cannot be insertion order.
	all := append(slices.Clone(many), others...)
	for _, k := range slices.Backward(all) {
		put(t, s, k, k)
	}
	slices.Sort(all)
	for _, tc := range []struct {
		prefix string
		want   []string
	}{
		{"many/", many},
		{"repodata/", []string{"repodata/a.xml", "repodata/b.xml.gz"}},
		{"repodata", []string{"repodata.x", "repodata/a.xml", "repodata/b.xml.gz"}},
		{"repo", []string{"repo", "repodata.x", "repodata/a.xml", "repodata/b.xml.gz"}},
		{"packages/k/ker", []string{"packages/k/kernel.rpm"}},
		{"nothing/", nil},
		{"", all},
	} {
		if got := listKeys(t, s, tc.prefix); !slices.Equal(got, tc.want) {
			t.Errorf("List(%q) = %q, want %q", tc.prefix, got, tc.want)
		}
	}
	for info, err := range s.List(t.Context(), "repodata/a") {
		if err != nil || info.Size != int64(len("repodata/a.xml")) || info.ModTime.IsZero() {
			t.Errorf("List(repodata/a) = %+v, %v; want its size and time", info, err)
		}
	}
	seen := 0
	for range s.List(t.Context(), "many/") {
		if seen++; seen == 3 {
			break
		}
	}
	if seen != 3 {
		t.Errorf("List stopped after %d items, want 3", seen)
	}
}

func testPutIfAbsent(t *testing.T, s store.Store) {
	ctx := t.Context()
	first, err := s.PutIfAbsent(ctx, "pkg.rpm", bytes.NewReader([]byte("first")))
	if err != nil {
		t.Fatalf("PutIfAbsent(new key): %v", err)
	}
	if _, err := s.PutIfAbsent(ctx, "pkg.rpm", bytes.NewReader([]byte("second"))); !errors.Is(err, store.ErrConflict) {
		t.Errorf("PutIfAbsent(existing key) error = %v, want ErrConflict", err)
	}
	if got, info := mustRead(t, s, "pkg.rpm"); got != "first" || info.Version != first.Version {
		t.Errorf("after a refused PutIfAbsent: %q version %q, want %q version %q", got, info.Version, "first", first.Version)
	}
}

func testCompareAndSwap(t *testing.T, s store.Store) {
	ctx := t.Context()
	cas := func(version, content string) (store.Info, error) {
		return s.CompareAndSwap(ctx, "repomd.xml", version, bytes.NewReader([]byte(content)))
	}
	v1, err := cas("", "v1")
	if err != nil {
		t.Fatalf("CompareAndSwap(\"\") on a new key: %v", err)
	}
	if _, err := cas("", "again"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CompareAndSwap(\"\") on an existing key error = %v, want ErrConflict", err)
	}
	v2, err := cas(v1.Version, "v2")
	if err != nil {
		t.Fatalf("CompareAndSwap(current version): %v", err)
	}
	if _, err := cas(v1.Version, "stale"); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CompareAndSwap(stale version) error = %v, want ErrConflict", err)
	}
	if got, info := mustRead(t, s, "repomd.xml"); got != "v2" || info.Version != v2.Version {
		t.Errorf("after CAS: %q version %q, want %q version %q", got, info.Version, "v2", v2.Version)
	}
	if _, err := s.CompareAndSwap(ctx, "missing", v2.Version, bytes.NewReader(nil)); !errors.Is(err, store.ErrConflict) {
		t.Errorf("CompareAndSwap(version) on a missing key error = %v, want ErrConflict", err)
	}
	if _, err := s.Stat(ctx, "missing"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("a refused CAS created its key: Stat error = %v", err)
	}
}

// race runs Racers writes at once and checks that exactly one won and the
// others got ErrConflict; it returns the winner's index and Info.
func race(t *testing.T, write func(i int) (store.Info, error)) (int, store.Info) {
	t.Helper()
	var wg sync.WaitGroup
	infos := make([]store.Info, Racers)
	errs := make([]error, Racers)
	for i := range Racers {
		wg.Go(func() { infos[i], errs[i] = write(i) })
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both won", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("racer %d: error %v, want ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no racer won: %v", errs)
	}
	return winner, infos[winner]
}

func testRacingPutIfAbsent(t *testing.T, s store.Store) {
	w, info := race(t, func(i int) (store.Info, error) {
		return s.PutIfAbsent(t.Context(), "race", bytes.NewReader(fmt.Appendf(nil, "racer %d", i)))
	})
	if got, st := mustRead(t, s, "race"); got != fmt.Sprintf("racer %d", w) || st.Version != info.Version {
		t.Errorf("stored %q version %q, want the winner's %q version %q", got, st.Version, fmt.Sprintf("racer %d", w), info.Version)
	}
}

func testRacingCompareAndSwap(t *testing.T, s store.Store) {
	base := put(t, s, "race", "base")
	w, info := race(t, func(i int) (store.Info, error) {
		return s.CompareAndSwap(t.Context(), "race", base.Version, bytes.NewReader(fmt.Appendf(nil, "racer %d", i)))
	})
	if got, st := mustRead(t, s, "race"); got != fmt.Sprintf("racer %d", w) || st.Version != info.Version {
		t.Errorf("stored %q version %q, want the winner's %q version %q", got, st.Version, fmt.Sprintf("racer %d", w), info.Version)
	}
}

func testDelete(t *testing.T, s store.Store) {
	put(t, s, "old/primary.xml.gz", "x")
	put(t, s, "old/keep", "y")
	if err := s.Delete(t.Context(), "old/primary.xml.gz"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := s.Stat(t.Context(), "old/primary.xml.gz"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("Stat after Delete error = %v, want ErrNotExist", err)
	}
	if got := listKeys(t, s, "old/"); !slices.Equal(got, []string{"old/keep"}) {
		t.Errorf("List after Delete = %q, want [old/keep]", got)
	}
}

func testLarge(t *testing.T, s store.Store, opts Options) {
	size := opts.LargeSize
	data := make([]byte, size)
	rng := rand.NewChaCha8([32]byte{1})
	rng.Read(data)
	want := sha256.Sum256(data)
	// A plain io.Reader, so backends cannot rely on seeking.
	info, err := s.PutIfAbsent(t.Context(), "big/kernel.rpm", io.MultiReader(bytes.NewReader(data)))
	if err != nil {
		t.Fatalf("PutIfAbsent(%d bytes): %v", size, err)
	}
	if info.Size != size {
		t.Errorf("Put size = %d, want %d", info.Size, size)
	}
	got, st := mustRead(t, s, "big/kernel.rpm")
	if sha256.Sum256([]byte(got)) != want || st.Size != size {
		t.Fatalf("large round trip: got %d bytes, want %d bytes of the same content", len(got), size)
	}
	if opts.IgnoresConditionalMultipart {
		return
	}
	if st.Version != info.Version {
		t.Errorf("large round trip: %d bytes version %q, want %d bytes of the same content, version %q", len(got), st.Version, size, info.Version)
	}
	_, err = s.PutIfAbsent(t.Context(), "big/kernel.rpm", io.MultiReader(bytes.NewReader(data)))
	if !errors.Is(err, store.ErrConflict) {
		t.Errorf("large PutIfAbsent on an existing key error = %v, want ErrConflict", err)
	}
}

func testInvalidKeys(t *testing.T, s store.Store) {
	ctx := context.Background()
	for _, key := range []string{"", "/etc/passwd", "../escape", "a/../../b", "a/./b", "a//b", "a/", ".", "a\\..\\b", "nul\x00"} {
		checks := map[string]error{}
		_, checks["Put"] = s.Put(ctx, key, bytes.NewReader(nil))
		_, checks["PutIfAbsent"] = s.PutIfAbsent(ctx, key, bytes.NewReader(nil))
		_, checks["CompareAndSwap"] = s.CompareAndSwap(ctx, key, "", bytes.NewReader(nil))
		_, _, checks["Get"] = s.Get(ctx, key)
		_, checks["Stat"] = s.Stat(ctx, key)
		checks["Delete"] = s.Delete(ctx, key)
		for op, err := range checks {
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("%s(%q) error = %v, want ErrInvalidKey", op, key, err)
			}
		}
	}
	for _, prefix := range []string{"../", "/abs", "a//"} {
		for _, err := range s.List(ctx, prefix) {
			if !errors.Is(err, store.ErrInvalidKey) {
				t.Errorf("List(%q) error = %v, want ErrInvalidKey", prefix, err)
			}
		}
	}
	if got := listKeys(t, s, ""); len(got) != 0 {
		t.Errorf("invalid keys wrote objects: %q", got)
	}
}
