package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
)

// fetcher reads files below a source's root, by checked relative location.
type fetcher interface {
	// readAll returns the whole file, at most limit bytes; cache asks for a
	// conditional request against the last answer.
	readAll(ctx context.Context, loc string, limit int64, cache bool) ([]byte, error)
	// open streams the file.
	open(ctx context.Context, loc string) (io.ReadCloser, error)
	// name is the file's URL or path, for errors.
	name(loc string) string
}

// httpFetcher reads below a base URL.
type httpFetcher struct {
	base *url.URL // path ends in "/"
	c    *httpClient
}

func (f *httpFetcher) name(loc string) string {
	return f.base.String() + escapePath(loc)
}

func (f *httpFetcher) readAll(ctx context.Context, loc string, limit int64, cache bool) ([]byte, error) {
	if err := checkLocation(loc); err != nil {
		return nil, &BadInputError{Input: f.base.String(), Err: err}
	}
	return f.c.readAll(ctx, f.name(loc), limit, cache)
}

func (f *httpFetcher) open(ctx context.Context, loc string) (io.ReadCloser, error) {
	if err := checkLocation(loc); err != nil {
		return nil, &BadInputError{Input: f.base.String(), Err: err}
	}
	return f.c.open(ctx, f.name(loc))
}

// fileFetcher reads below a local folder through os.Root, which refuses
// any path (or symlink) leading out of it.
type fileFetcher struct {
	dir  string
	root *os.Root
}

func newFileFetcher(dir string) (*fileFetcher, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &fileFetcher{dir: dir, root: root}, nil
}

func (f *fileFetcher) name(loc string) string { return filepath.Join(f.dir, filepath.FromSlash(loc)) }

func (f *fileFetcher) openFile(loc string) (*os.File, error) {
	if err := checkLocation(loc); err != nil {
		return nil, &BadInputError{Input: f.dir, Err: err}
	}
	file, err := f.root.Open(filepath.FromSlash(loc))
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, &AccessError{URL: f.name(loc), Err: err}
		}
		return nil, &BadInputError{Input: f.name(loc), Err: fmt.Errorf("%w: %v", ErrLocation, err)}
	}
	return file, nil
}

func (f *fileFetcher) readAll(_ context.Context, loc string, limit int64, _ bool) ([]byte, error) {
	file, err := f.openFile(loc)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	body, err := io.ReadAll(io.LimitReader(file, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.name(loc), err)
	}
	if int64(len(body)) > limit {
		return nil, badInput(f.name(loc), ErrTooLarge, "more than %d bytes", limit)
	}
	return body, nil
}

func (f *fileFetcher) open(_ context.Context, loc string) (io.ReadCloser, error) {
	return f.openFile(loc)
}

// newFetcher returns the fetcher of an http(s) or file URL or a plain path.
func newFetcher(raw string, c *httpClient) (fetcher, *url.URL, error) {
	if dir, ok := localPath(raw); ok {
		f, err := newFileFetcher(dir)
		return f, nil, err
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("url %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, nil, fmt.Errorf("url %q: want https://host/path, http://host/path or file:///path", raw)
	}
	if u.Path == "" || u.Path[len(u.Path)-1] != '/' {
		u.Path += "/"
		u.RawPath = ""
	}
	u.RawQuery, u.Fragment = "", ""
	return &httpFetcher{base: u, c: c}, u, nil
}
