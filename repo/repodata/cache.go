package repodata

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// CacheName is the file in a repository's root where Index keeps the
// records it last wrote, so that an update need not parse the XML again. It
// is only used while it matches repodata/repomd.xml's primary checksum; it is
// not part of the repository and need not be published.
const CacheName = ".repodata.cache"

// encodeCache serializes the packages read from pkgs, until it is closed,
// into w for the cache (see cachecodec.go). A failed write shows when w is
// flushed.
func encodeCache(w *bufio.Writer, pkgs <-chan *Package) {
	enc := cacheEncoder{w: w}
	w.WriteString(cacheFormat)
	for p := range pkgs {
		enc.pkg(p)
	}
	w.WriteByte(endOfRecords)
}

// cacheKeyLen is the length of the cache's first line: a sha256 in hex and
// a newline.
const cacheKeyLen = 64 + 1

// cacheWriter writes the cache (see encodeCache) while the metadata is being
// written: a first line holding the primary document's checksum, then the
// records. Failing to write it only costs a later update its speed, so a
// failure removes the file and is otherwise ignored.
//
// The file is rewritten in place rather than replaced (creating an inode is
// one of the dearest steps of a small index), and streamed rather than held
// in memory (a kernel's records are megabytes). Its first line is a
// placeholder, matching no checksum, until commit writes the checksum of the
// primary document that was written with the records; a write cut short
// leaves no cache or one that matches no repomd.xml.
type cacheWriter struct {
	path string
	f    *os.File
	bw   *bufio.Writer
	err  error
}

// createCache starts writing dir's cache.
func createCache(dir string) *cacheWriter {
	c := &cacheWriter{path: filepath.Join(dir, CacheName)}
	c.f, c.err = os.OpenFile(c.path, os.O_WRONLY|os.O_CREATE, 0o644)
	if c.err == nil {
		c.bw = bufio.NewWriterSize(c.f, 64<<10)
		_, c.err = c.bw.WriteString(strings.Repeat("-", cacheKeyLen-1) + "\n")
	}
	return c
}

// encode writes the records read from pkgs until it is closed, draining it
// even on error.
func (c *cacheWriter) encode(pkgs <-chan *Package) {
	if c.err != nil {
		for range pkgs {
		}
		return
	}
	encodeCache(c.bw, pkgs)
}

// commit ends the cache as that of the primary document with the given
// checksum, or removes it when it could not be written whole.
func (c *cacheWriter) commit(primary string) {
	if c.err == nil && len(primary)+1 != cacheKeyLen {
		c.err = fmt.Errorf("checksum %q is not a sha256", primary)
	}
	if c.err == nil {
		c.err = c.bw.Flush()
	}
	if c.err == nil {
		var end int64
		if end, c.err = c.f.Seek(0, io.SeekCurrent); c.err == nil {
			c.err = c.f.Truncate(end)
		}
	}
	if c.err == nil {
		_, c.err = c.f.WriteAt([]byte(primary+"\n"), 0)
	}
	c.close()
}

// abort removes the cache being written.
func (c *cacheWriter) abort() {
	if c.err == nil {
		c.err = errors.New("aborted")
	}
	c.close()
}

func (c *cacheWriter) close() {
	if c.f != nil {
		if err := c.f.Close(); c.err == nil {
			c.err = err
		}
	}
	if c.err != nil {
		os.Remove(c.path)
	}
}

// readCache returns the cached records if they describe the primary
// document with the given checksum.
func readCache(dir, primary string) ([]*Package, bool) {
	data, err := os.ReadFile(filepath.Join(dir, CacheName))
	if err != nil {
		return nil, false
	}
	return decodeCache(data, primary)
}

// decodeCache decodes a cache file's content if its first line is the
// primary checksum; anything else, and records primary.xml could not hold,
// is no cache. The records' strings share data's memory, which the caller
// must not change.
func decodeCache(data []byte, primary string) ([]*Package, bool) {
	key, rest, ok := strings.Cut(unsafeString(data), "\n")
	if !ok || key != primary || !strings.HasPrefix(rest, cacheFormat) {
		return nil, false
	}
	d := cacheDecoder{s: rest[len(cacheFormat):]}
	var pkgs []*Package
	for d.more() {
		p := d.pkg()
		if d.err != nil || p.check() != nil {
			return nil, false
		}
		pkgs = append(pkgs, p)
	}
	return pkgs, d.err == nil
}
