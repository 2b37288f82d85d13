// Package serve publishes a store read-only over HTTP, the way dnf expects a
// repository to be served: correct content types, Range requests,
// conditional requests by ETag and Last-Modified, HEAD, and no way out of
// the store.
package serve

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"os"
	"path"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/repo/store"
)

// rangeOpener is a store that reads part of an object without downloading
// all of it (store.S3). Stores without it must return seekable readers
// from Get (store.Dir) or are spooled to a temporary file.
type rangeOpener interface {
	GetRange(ctx context.Context, key, version string, offset, length int64) (io.ReadCloser, error)
}

// Handler serves the objects of s at paths equal to their keys (GET and
// HEAD only) and logs every request to log. A path ending in "/" lists the
// keys below it.
func Handler(s store.Store, log zerolog.Logger) http.Handler {
	h := &handler{store: s}
	return accessLog(log, h)
}

type handler struct {
	store store.Store
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only repository: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	if key == "" || strings.HasSuffix(key, "/") {
		h.serveIndex(w, r, key)
		return
	}
	if err := store.ValidKey(key); err != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	content, info, err := h.open(r, key)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer content.Close()
	hdr := w.Header()
	hdr.Set("Content-Type", ContentType(key))
	hdr.Set("X-Content-Type-Options", "nosniff")
	if info.Version != "" {
		hdr.Set("ETag", etag(info.Version))
	}
	if strings.HasPrefix(path.Base(key), "repomd.xml") {
		// Replaced on every publish: clients and proxies must revalidate.
		hdr.Set("Cache-Control", "no-cache")
	}
	http.ServeContent(w, r, path.Base(key), info.ModTime, content)
}

// fail answers a failed open: 404 for a missing key, 500 otherwise (with
// the cause logged, not shown).
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotExist) {
		http.NotFound(w, r)
		return
	}
	if errors.Is(err, store.ErrInvalidKey) {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	setError(w, err)
	http.Error(w, "internal error", http.StatusInternalServerError)
}

// seekCloser is what http.ServeContent reads, plus Close.
type seekCloser interface {
	io.ReadSeeker
	io.Closer
}

// open returns the object as a seekable reader and its Info. A store with
// range reads answers HEAD and Range requests from Stat and reads only the
// parts sent, pinned to the version Stat saw; a whole GET reads one
// consistent object from Get, so a publish replacing it mid-request cannot
// mix two versions or fail the request.
func (h *handler) open(r *http.Request, key string) (seekCloser, store.Info, error) {
	ctx := r.Context()
	if ro, ok := h.store.(rangeOpener); ok {
		if r.Method == http.MethodHead || r.Header.Get("Range") != "" {
			info, err := h.store.Stat(ctx, key)
			if err != nil {
				return nil, store.Info{}, err
			}
			return &rangeReader{ctx: ctx, open: ro, info: info}, info, nil
		}
		rc, info, err := h.store.Get(ctx, key)
		if err != nil {
			return nil, store.Info{}, err
		}
		return &rangeReader{ctx: ctx, open: ro, info: info, body: rc}, info, nil
	}
	rc, info, err := h.store.Get(ctx, key)
	if err != nil {
		return nil, store.Info{}, err
	}
	if sc, ok := rc.(seekCloser); ok {
		return sc, info, nil
	}
	defer rc.Close()
	f, err := spool(rc)
	return f, info, err
}

// spool copies r into an unlinked temporary file.
func spool(r io.Reader) (seekCloser, error) {
	f, err := os.CreateTemp("", "kabiforge-serve-*")
	if err != nil {
		return nil, err
	}
	os.Remove(f.Name())
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return nil, fmt.Errorf("spool: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// etag quotes a store version as an HTTP entity tag (S3 ETags come quoted).
func etag(version string) string {
	if strings.HasPrefix(version, `"`) || strings.HasPrefix(version, `W/"`) {
		return version
	}
	return `"` + version + `"`
}

// ContentType returns the media type served for a key, by its name.
// Compressed metadata keeps its compression type (no Content-Encoding), so
// clients receive exactly the bytes whose checksum repomd.xml names.
func ContentType(key string) string {
	base := path.Base(key)
	if strings.HasPrefix(base, "RPM-GPG-KEY") {
		return "application/pgp-keys"
	}
	switch strings.ToLower(path.Ext(base)) {
	case ".xml":
		return "application/xml"
	case ".rpm":
		return "application/x-rpm"
	case ".asc", ".sig":
		return "application/pgp-signature"
	case ".gpg", ".key":
		return "application/pgp-keys"
	case ".gz":
		return "application/gzip"
	case ".zst":
		return "application/zstd"
	case ".xz":
		return "application/x-xz"
	case ".bz2":
		return "application/x-bzip2"
	case ".sqlite":
		return "application/vnd.sqlite3"
	case ".json":
		return "application/json"
	case ".repo", ".txt", ".log":
		return "text/plain; charset=utf-8"
	}
	return "application/octet-stream"
}

// maxIndexEntries bounds a folder listing.
const maxIndexEntries = 10000

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Index of /{{.Prefix}}</title></head>
<body><h1>Index of /{{.Prefix}}</h1><ul>
{{range .Names}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul></body></html>
`))

// serveIndex lists the names directly below prefix ("" for the root).
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request, prefix string) {
	if prefix != "" && store.ValidKey(strings.TrimSuffix(prefix, "/")) != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	var names []string
	for info, err := range h.store.List(r.Context(), prefix) {
		if err != nil {
			h.fail(w, r, err)
			return
		}
		name, _, isDir := strings.Cut(strings.TrimPrefix(info.Key, prefix), "/")
		if isDir {
			name += "/"
		}
		if len(names) == 0 || names[len(names)-1] != name {
			names = append(names, name)
		}
		if len(names) >= maxIndexEntries {
			break
		}
	}
	if len(names) == 0 && prefix != "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	indexPage.Execute(w, struct {
		Prefix string
		Names  []string
	}{prefix, names})
}

// rangeReader reads an object from a rangeOpener from wherever it was last
// sought to, pinned to the version of info. Seeking only moves pos; the open
// body (which starts at bodyPos) is replaced on the next Read if it is not
// at pos.
type rangeReader struct {
	ctx     context.Context
	open    rangeOpener
	info    store.Info
	pos     int64
	body    io.ReadCloser
	bodyPos int64
}

func (rr *rangeReader) Read(p []byte) (int, error) {
	if rr.pos >= rr.info.Size {
		return 0, io.EOF
	}
	if rr.body != nil && rr.bodyPos != rr.pos {
		rr.Close()
	}
	if rr.body == nil {
		body, err := rr.open.GetRange(rr.ctx, rr.info.Key, rr.info.Version, rr.pos, -1)
		if err != nil {
			return 0, err
		}
		rr.body, rr.bodyPos = body, rr.pos
	}
	n, err := rr.body.Read(p)
	rr.pos += int64(n)
	rr.bodyPos += int64(n)
	if err == io.EOF && rr.pos < rr.info.Size {
		err = io.ErrUnexpectedEOF
	}
	return n, err
}

func (rr *rangeReader) Seek(offset int64, whence int) (int64, error) {
	pos := offset
	switch whence {
	case io.SeekCurrent:
		pos += rr.pos
	case io.SeekEnd:
		pos += rr.info.Size
	}
	if pos < 0 {
		return rr.pos, errors.New("seek before start")
	}
	rr.pos = pos
	return pos, nil
}

func (rr *rangeReader) Close() error {
	if rr.body == nil {
		return nil
	}
	err := rr.body.Close()
	rr.body = nil
	return err
}

// accessLog logs one line per request: method, path, status, bytes, time.
func accessLog(log zerolog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		ev := log.Info()
		if rec.status >= 500 {
			ev = log.Error().Err(rec.err)
		}
		ev.Str("method", r.Method).Str("path", r.URL.Path).Int("status", rec.status).
			Int64("bytes", rec.bytes).Dur("took", time.Since(start)).Str("remote", r.RemoteAddr)
		if rng := r.Header.Get("Range"); rng != "" {
			ev = ev.Str("range", rng)
		}
		ev.Msg("http")
	})
}

// recorder captures what the access log reports.
type recorder struct {
	http.ResponseWriter
	status int
	bytes  int64
	err    error
}

func (rec *recorder) WriteHeader(code int) {
	rec.status = code
	rec.ResponseWriter.WriteHeader(code)
}

func (rec *recorder) Write(p []byte) (int, error) {
	n, err := rec.ResponseWriter.Write(p)
	rec.bytes += int64(n)
	return n, err
}

// ReadFrom keeps the server's sendfile path for files.
func (rec *recorder) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(rec.ResponseWriter, r)
	rec.bytes += n
	return n, err
}

func (rec *recorder) Unwrap() http.ResponseWriter { return rec.ResponseWriter }

// setError hands a server error to the access log.
func setError(w http.ResponseWriter, err error) {
	if rec, ok := w.(*recorder); ok {
		rec.err = err
	}
}
