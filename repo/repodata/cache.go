package repodata

import (
	"bufio"
	"bytes"
	"encoding/gob"
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
// for the cache: one gob value per package. It drains pkgs even on error.
func encodeCache(pkgs <-chan *Package) ([]byte, error) {
	var buf bytes.Buffer
	enc := gob.NewEncoder(&buf)
	var err error
	for p := range pkgs {
		if err == nil {
			err = enc.Encode(p)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("encode update cache: %w", err)
	}
	return buf.Bytes(), nil
}

// saveCache writes the records encodeCache made as the content of the
// primary document with the given checksum: a first line holding the
// checksum, then the records. Failing to write it only costs a later update
// its speed, so a failure removes any stale cache and is otherwise ignored.
//
// The file is rewritten in place rather than replaced (creating an inode is
// one of the dearest steps of a small index). A write cut short leaves the
// checksum line and a prefix of the records, which is still sound: Index
// checks every cached record against its package file and reads the
// packages the cache lacks.
func saveCache(dir, primary string, records []byte) {
	path := filepath.Join(dir, CacheName)
	err := func() error {
		if records == nil {
			return os.ErrInvalid
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
		if err != nil {
			return err
		}
		_, err = f.WriteString(primary + "\n")
		if err == nil {
			_, err = f.Write(records)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		return err
	}()
	if err != nil {
		os.Remove(path)
	}
}

// readCache returns the cached records if they describe the primary
// document with the given checksum.
func readCache(dir, primary string) ([]*Package, bool) {
	f, err := os.Open(filepath.Join(dir, CacheName))
	if err != nil {
		return nil, false
	}
	defer f.Close()
	return decodeCache(bufio.NewReaderSize(f, 256<<10), primary)
}

// decodeCache decodes a cache file's content (see saveCache) if its first
// line is the primary checksum; anything else, and records primary.xml
// could not hold, is no cache.
func decodeCache(r *bufio.Reader, primary string) ([]*Package, bool) {
	key, err := r.ReadString('\n')
	if err != nil || strings.TrimSuffix(key, "\n") != primary {
		return nil, false
	}
	var pkgs []*Package
	dec := gob.NewDecoder(r)
	for {
		p := new(Package)
		err := dec.Decode(p)
		if err == io.EOF {
			return pkgs, true
		}
		if err != nil || p.check() != nil {
			return nil, false
		}
		pkgs = append(pkgs, p)
	}
}
