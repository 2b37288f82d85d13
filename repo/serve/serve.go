// Package serve publishes a store read-only over HTTP, the way dnf expects a
// repository to be served: correct content types, Range requests,
// conditional requests by ETag and Last-Modified, HEAD, and no way out of
// the store.
package serve

import (
	"context"
	"errors"
	"fmt"
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
// keys below it. A client that GETs repomd.xml and then repomd.xml.asc
// gets the signature over the repomd.xml it received first, even when a
// publish replaced both in between (see sigOrder).
func Handler(s store.Store, log zerolog.Logger) http.Handler {
	h := &handler{store: s, order: newSigOrder(time.Now)}
	return accessLog(log, h)
}

type handler struct {
	store store.Store
	order *sigOrder
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "read-only repository: only GET and HEAD", http.StatusMethodNotAllowed)
		return
	}
	key := strings.TrimPrefix(r.URL.Path, "/")
	if key == "" || strings.HasSuffix(key, "/") {
		if !h.hasPage(r, key) {
			h.serveIndex(w, r, key)
			return
		}
		key += pageName // the repository's compatibility page
	}
	if err := store.ValidKey(key); err != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	content, info, err := h.open(r, key)
	if err == nil {
		switch path.Base(key) {
		case repomdName:
			content, err = h.order.remember(r, key, content, info)
		case ascName:
			content, info, err = h.order.reorder(r, key, content, info)
		}
	}
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
	case ".html":
		return "text/html; charset=utf-8"
	case ".der", ".cer":
		return "application/pkix-cert"
	}
	return "application/octet-stream"
}
