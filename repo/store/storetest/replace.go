package storetest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/repo/store"
)

// replaced is the i-th version of the object testReadsDuringReplaces
// rewrites: 256 KiB, so that a replace often lands during a read.
func replaced(i int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "version %08d\n", i), 256<<10/17)
}

// testReadsDuringReplaces reads an object while it is replaced 20 times by
// compare-and-swap: every Get returns one whole version together with that
// version's own Version, never the body of one and the Version of another
// (a client revalidating with that Version would keep a stale body).
func testReadsDuringReplaces(t *testing.T, s store.Store) {
	const key = "repodata/repomd.xml"
	cur, err := s.Put(t.Context(), key, bytes.NewReader(replaced(0)))
	if err != nil {
		t.Fatal(err)
	}
	written := map[string][32]byte{cur.Version: sha256.Sum256(replaced(0))}
	type read struct {
		version string
		sum     [32]byte
	}
	var (
		mu    sync.Mutex
		reads []read
		wg    sync.WaitGroup
	)
	stop := make(chan struct{})
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				body, info, err := readAll(s, t, key)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				reads = append(reads, read{info.Version, sha256.Sum256(body)})
				mu.Unlock()
			}
		})
	}
	for i := 1; i <= 20; i++ {
		cur, err = s.CompareAndSwap(t.Context(), key, cur.Version, bytes.NewReader(replaced(i)))
		if err != nil {
			close(stop)
			wg.Wait()
			t.Fatalf("replace %d: %v", i, err)
		}
		written[cur.Version] = sha256.Sum256(replaced(i))
	}
	close(stop)
	wg.Wait()
	for _, r := range reads {
		if want, ok := written[r.version]; !ok || want != r.sum {
			t.Errorf("a read returned Version %s with a body that is not that version's (of %d reads)", r.version, len(reads))
		}
	}
	t.Logf("%d reads during 20 replaces", len(reads))
}

func readAll(s store.Store, t *testing.T, key string) ([]byte, store.Info, error) {
	rc, info, err := s.Get(t.Context(), key)
	if err != nil {
		return nil, info, fmt.Errorf("Get(%q): %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, info, fmt.Errorf("read %q: %w", key, err)
	}
	return b, info, nil
}
