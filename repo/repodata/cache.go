package repodata

import (
	"bufio"
	"encoding/gob"
	"os"
	"path/filepath"
)

// CacheName is the file in a repository's root where Index keeps the
// records it last wrote, so that an update need not parse the XML again. It
// is only used while it matches repodata/repomd.xml's primary checksum; it is
// not part of the repository and need not be published.
const CacheName = ".repodata.cache"

type cacheFile struct {
	// Primary is the checksum of the primary document these records match.
	Primary  string
	Packages []*Package
}

// writeCache records pkgs as the content of the primary document with the
// given checksum. Failing to write it only costs a later update its speed, so
// a failure removes any stale cache and is otherwise ignored.
func writeCache(dir, primary string, pkgs []*Package) {
	path := filepath.Join(dir, CacheName)
	err := func() error {
		f, err := os.CreateTemp(dir, CacheName+".tmp-")
		if err != nil {
			return err
		}
		defer os.Remove(f.Name())
		w := bufio.NewWriterSize(f, 256<<10)
		if err := gob.NewEncoder(w).Encode(cacheFile{Primary: primary, Packages: pkgs}); err != nil {
			f.Close()
			return err
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
		return os.Rename(f.Name(), path)
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
	var c cacheFile
	if err := gob.NewDecoder(bufio.NewReaderSize(f, 256<<10)).Decode(&c); err != nil || c.Primary != primary {
		return nil, false
	}
	return c.Packages, true
}
