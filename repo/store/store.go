// Package store keeps a repository's and the build system's files behind one
// small interface with two backends: a local folder (dir://) and an
// S3-protocol bucket (s3://). Writes are atomic: a reader sees either the
// whole old object or the whole new one. Conditional writes (PutIfAbsent,
// CompareAndSwap) let several publishers share one repository safely.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/url"
	"strings"
	"time"
)

// Errors returned by every backend; test them with errors.Is.
var (
	// ErrNotExist means the key has no object.
	ErrNotExist = errors.New("object does not exist")
	// ErrConflict means a conditional write's precondition failed: the key
	// exists (PutIfAbsent) or its version is not the expected one
	// (CompareAndSwap). Nothing was written.
	ErrConflict = errors.New("precondition failed")
	// ErrInvalidKey means the key is empty, absolute, or has an empty, "." or
	// ".." segment.
	ErrInvalidKey = errors.New("invalid key")
	// ErrUnsupported means the backend cannot perform a conditional write
	// safely (e.g. an S3 server without If-None-Match / If-Match). Nothing was
	// written.
	ErrUnsupported = errors.New("conditional writes not supported by this server")
)

// Info describes one stored object.
type Info struct {
	// Key is the object's slash-separated name within the store.
	Key string
	// Size is the object's length in bytes.
	Size int64
	// Version identifies the object's content for CompareAndSwap: the hex
	// sha256 of the content for dir stores, the ETag for S3 stores. It may
	// be empty in List results of backends where computing it is costly
	// (dir); Stat always fills it.
	Version string
	// ModTime is when the object was last written.
	ModTime time.Time
}

// Store is a flat namespace of immutable-per-write objects named by keys like
// "repodata/repomd.xml". Keys are validated with ValidKey.
type Store interface {
	// Get opens the object for reading. The caller closes the reader.
	Get(ctx context.Context, key string) (io.ReadCloser, Info, error)
	// Stat returns the object's Info without its content.
	Stat(ctx context.Context, key string) (Info, error)
	// List yields the objects whose keys start with prefix (a plain string
	// prefix, "" for all), in byte order of their keys. Iteration stops at
	// the first error, which is yielded with a zero Info.
	List(ctx context.Context, prefix string) iter.Seq2[Info, error]
	// Put writes the object unconditionally; the last writer wins.
	Put(ctx context.Context, key string, r io.Reader) (Info, error)
	// PutIfAbsent writes the object only if the key has none; otherwise it
	// returns ErrConflict.
	PutIfAbsent(ctx context.Context, key string, r io.Reader) (Info, error)
	// CompareAndSwap replaces the object only if its current Version is
	// version; an empty version means the key must not exist. Otherwise it
	// returns ErrConflict.
	CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (Info, error)
	// Delete removes the object. Deleting a missing key is not an error.
	Delete(ctx context.Context, key string) error
}

// Open returns the store a URL names:
//
//	dir:///srv/repo or /srv/repo    a local folder (created if missing)
//	s3://bucket/prefix?endpoint=http://127.0.0.1:7070&region=us-east-1&path-style=true
//
// S3 credentials come from the AWS default chain (AWS_ACCESS_KEY_ID and
// AWS_SECRET_ACCESS_KEY, shared config files, instance roles). Further S3
// query parameters: part-size and multipart-threshold (bytes), concurrency
// (parts uploaded at once), list-page-size.
func Open(ctx context.Context, rawURL string) (Store, error) {
	if rawURL == "" {
		return nil, errors.New("open store: empty URL")
	}
	if !strings.Contains(rawURL, "://") {
		return OpenDir(rawURL)
	}
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("open store %q: %w", rawURL, err)
	}
	switch u.Scheme {
	case "dir", "file":
		if u.Host != "" && u.Host != "localhost" {
			return nil, fmt.Errorf("open store %q: dir URLs take no host (use dir:///path)", rawURL)
		}
		return OpenDir(u.Path)
	case "s3":
		cfg, err := parseS3URL(u)
		if err != nil {
			return nil, fmt.Errorf("open store %q: %w", redact(u), err)
		}
		return OpenS3(ctx, cfg)
	default:
		return nil, fmt.Errorf("open store %q: unknown scheme %q (want dir:// or s3://)", redact(u), u.Scheme)
	}
}

// redact drops any user info from a URL so credentials never reach errors.
func redact(u *url.URL) string {
	c := *u
	c.User = nil
	return c.String()
}

// ValidKey reports whether key is a relative slash path without empty, "."
// or ".." segments, backslashes or NUL bytes; the error wraps ErrInvalidKey.
func ValidKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrInvalidKey)
	}
	if strings.HasPrefix(key, "/") {
		return fmt.Errorf("%w %q: absolute", ErrInvalidKey, key)
	}
	if strings.ContainsAny(key, "\\\x00") {
		return fmt.Errorf("%w %q: backslash or NUL", ErrInvalidKey, key)
	}
	for seg := range strings.SplitSeq(key, "/") {
		switch seg {
		case "":
			return fmt.Errorf("%w %q: empty segment", ErrInvalidKey, key)
		case ".", "..":
			return fmt.Errorf("%w %q: %q segment", ErrInvalidKey, key, seg)
		}
	}
	return nil
}

// validPrefix checks a List prefix: empty, or a key optionally followed by "/".
func validPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}
	return ValidKey(strings.TrimSuffix(prefix, "/"))
}

// errSeq is a List result that yields one error.
func errSeq(err error) iter.Seq2[Info, error] {
	return func(yield func(Info, error) bool) { yield(Info{}, err) }
}
