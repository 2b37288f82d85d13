package serve_test

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/repo/serve"
)

// repomdVersion is a 256 KiB repomd.xml stand-in, big enough that a publish
// often lands while a client is reading it.
func repomdVersion(i int) []byte {
	return bytes.Repeat(fmt.Appendf(nil, "<repomd revision=%08d/>\n", i), 256<<10/27)
}

// etagMatches reports whether an ETag is the content's sha256 (dir stores)
// or MD5 (S3 single-part uploads): the served header and body belong to
// the same version.
func etagMatches(tag string, body []byte) bool {
	s, m := sha256.Sum256(body), md5.Sum(body)
	return tag == `"`+hex.EncodeToString(s[:])+`"` || tag == `"`+hex.EncodeToString(m[:])+`"`
}

// Clients fetching repomd.xml while it is replaced 20 times by
// compare-and-swap always get one whole version, with that version's ETag.
func TestFetchesDuringPublishes(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			const key = "repodata/repomd.xml"
			cur, err := s.Put(t.Context(), key, bytes.NewReader(repomdVersion(0)))
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(serve.Handler(s, zerolog.Nop()))
			defer srv.Close()
			var fetches, failures atomic.Int64
			stop := make(chan struct{})
			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					for {
						select {
						case <-stop:
							return
						default:
						}
						if err := fetchOnce(srv.URL + "/" + key); err != nil {
							failures.Add(1)
							t.Error(err)
						}
						fetches.Add(1)
					}
				})
			}
			for i := 1; i <= 20; i++ {
				cur, err = s.CompareAndSwap(t.Context(), key, cur.Version, bytes.NewReader(repomdVersion(i)))
				if err != nil {
					t.Fatalf("publish %d: %v", i, err)
				}
			}
			for fetches.Load() < 100 {
				if err := fetchOnce(srv.URL + "/" + key); err != nil {
					t.Error(err)
				}
				fetches.Add(1)
			}
			close(stop)
			wg.Wait()
			t.Logf("%d fetches during 20 publishes, %d failures", fetches.Load(), failures.Load())
		})
	}
}

func fetchOnce(url string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("read body: %w", err)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	var rev int
	if _, err := fmt.Sscanf(string(body), "<repomd revision=%08d/>", &rev); err != nil || !bytes.Equal(body, repomdVersion(rev)) {
		return fmt.Errorf("a mixed or partial repomd.xml (%d bytes)", len(body))
	}
	if tag := resp.Header.Get("ETag"); !etagMatches(tag, body) {
		return fmt.Errorf("ETag %s does not belong to revision %d", tag, rev)
	}
	return nil
}
