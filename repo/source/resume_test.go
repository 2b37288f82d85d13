package source

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kabiforge/kabiforge/config"
)

// breakOnce serves the first request for a path ending in suffix with its
// full Content-Length but only half the body, then drops the connection.
type breakOnce struct {
	dir, suffix string
	next        http.Handler
	broken      atomic.Bool
}

func (b *breakOnce) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasSuffix(r.URL.Path, b.suffix) && b.broken.CompareAndSwap(false, true) {
		data, err := os.ReadFile(filepath.Join(b.dir, filepath.FromSlash(r.URL.Path)))
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(data)))
		w.Header().Set("Accept-Ranges", "bytes")
		w.Header().Set("ETag", `"v1"`)
		w.WriteHeader(200)
		w.Write(data[:len(data)/2])
		http.NewResponseController(w).Flush()
		panic(http.ErrAbortHandler)
	}
	b.next.ServeHTTP(w, r)
}

// noRanges hides a file server's range support.
type noRanges struct{ next http.Handler }

func (n noRanges) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	r.Header.Del("Range")
	r.Header.Del("If-Range")
	n.next.ServeHTTP(dropAcceptRanges{w}, r)
}

type dropAcceptRanges struct{ http.ResponseWriter }

func (d dropAcceptRanges) WriteHeader(s int) {
	d.Header().Del("Accept-Ranges")
	d.ResponseWriter.WriteHeader(s)
}

func (d dropAcceptRanges) Unwrap() http.ResponseWriter { return d.ResponseWriter }

func (d dropAcceptRanges) Write(p []byte) (int, error) {
	d.Header().Del("Accept-Ranges")
	return d.ResponseWriter.Write(p)
}

// etag gives files an ETag (http.FileServer has none), so If-Range works.
type etag struct{ next http.Handler }

func (e etag) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("ETag", `"v1"`)
	e.next.ServeHTTP(w, r)
}

func TestFetchResumesWithRange(t *testing.T) {
	dir := signedSRPMRepo(t, "kernel")
	rec := &recorder{h: &breakOnce{dir: dir, suffix: ".src.rpm", next: etag{http.FileServer(http.Dir(dir))}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	src := newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{})
	k := find(t, list(t, src), "kernel")
	got, err := Fetch(context.Background(), src, k, openStore(t), FetchOptions{Keys: upstreamKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != k.Checksum.Hex {
		t.Errorf("stored %s, listed %s", got.SHA256, k.Checksum.Hex)
	}
	want := "bytes=" + strconv.FormatInt(k.Size/2, 10) + "-"
	if r := rec.ranges(); len(r) != 1 || r[0] != want {
		t.Errorf("range requests %v, want [%s]", r, want)
	}
	if n := rec.count("/"+k.Location, http.StatusPartialContent); n != 1 {
		t.Errorf("%d partial answers", n)
	}
}

func TestFetchRestartsWithoutRanges(t *testing.T) {
	dir := signedSRPMRepo(t, "kernel")
	rec := &recorder{h: &breakOnce{dir: dir, suffix: ".src.rpm", next: noRanges{http.FileServer(http.Dir(dir))}}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	src := newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{})
	k := find(t, list(t, src), "kernel")
	if _, err := Fetch(context.Background(), src, k, openStore(t), FetchOptions{Keys: upstreamKeys(t)}); err != nil {
		t.Fatal(err)
	}
	if n := rec.count("/"+k.Location, 200); n != 2 {
		t.Errorf("%d full answers for the package, want 2", n)
	}
}

func TestServerErrorsAreRetryable(t *testing.T) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Error(w, "try later", http.StatusServiceUnavailable)
	}))
	defer srv.Close()
	_, err := newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{Retries: 2}).List(context.Background())
	var ne *NetworkError
	if !errors.As(err, &ne) || ne.Status != 503 || !Retryable(err) {
		t.Fatalf("error %v (%T), want a retryable *NetworkError with status 503", err, err)
	}
	if n := hits.Load(); n != 3 {
		t.Errorf("%d attempts, want 1 + 2 retries", n)
	}
	srv.Close()
	_, err = newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{Retries: -1}).List(context.Background())
	if !errors.As(err, &ne) || !Retryable(err) {
		t.Fatalf("refused connection: %v (%T), want a retryable *NetworkError", err, err)
	}
}

func TestNotFoundIsAccessError(t *testing.T) {
	srv, _ := serveDir(t, t.TempDir())
	_, err := newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{}).List(context.Background())
	var ae *AccessError
	if !errors.As(err, &ae) || ae.Status != 404 || Retryable(err) {
		t.Fatalf("error %v (%T), want a *AccessError 404", err, err)
	}
}

// breakAlways drops every connection for a package half way through.
type breakAlways struct{ dir string }

func (b breakAlways) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !strings.HasSuffix(r.URL.Path, ".src.rpm") {
		http.FileServer(http.Dir(b.dir)).ServeHTTP(w, r)
		return
	}
	data, _ := os.ReadFile(filepath.Join(b.dir, filepath.FromSlash(r.URL.Path)))
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	w.WriteHeader(200)
	w.Write(data[:len(data)/2])
	http.NewResponseController(w).Flush()
	panic(http.ErrAbortHandler)
}

// A download that keeps failing ends, after the bounded retries, in a
// retryable *NetworkError, and nothing is stored.
func TestFetchGivesUpRetryably(t *testing.T) {
	dir := signedSRPMRepo(t, "kernel")
	rec := &recorder{h: breakAlways{dir}}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	src := newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{Retries: 2})
	k := find(t, list(t, src), "kernel")
	st := openStore(t)
	tmp := t.TempDir()
	_, err := Fetch(context.Background(), src, k, st, FetchOptions{Keys: upstreamKeys(t), TempDir: tmp})
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("left %v in the temporary folder", left)
	}
	var ne *NetworkError
	if !errors.As(err, &ne) || !Retryable(err) {
		t.Fatalf("error %v (%T), want a retryable *NetworkError", err, err)
	}
	if n := rec.count("/"+k.Location, 0); n != 3 {
		t.Errorf("%d requests for the package, want 1 + 2 resumptions", n)
	}
	if keys := storedKeys(t, st); len(keys) != 0 {
		t.Errorf("stored %v", keys)
	}
}
