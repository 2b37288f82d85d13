package repodata

import (
	"fmt"
	"os"
	"path/filepath"
)

// Describe reads the RPM at path and returns its record, located at
// location (slash-separated, relative to the repository root).
func Describe(path, location string) (*Package, error) {
	var r pkgReader
	rp, sum, mtime, err := r.read(path, nil)
	if err != nil {
		return nil, err
	}
	return FromRPM(rp, location, sum, mtime), nil
}

// WriteMetadata writes rpm-md metadata describing pkgs, in their order, into
// dir/repodata, without reading any RPM: for example records from ReadRepo
// of a published repository plus Describe of new packages. Only
// opts.Compression, opts.Signer and opts.Now are used. Like Index, it builds
// the metadata aside and moves it into place only when complete.
func WriteMetadata(dir string, pkgs []*Package, opts Options) (md *Repomd, err error) {
	opts.fill()
	seen := make(map[string]bool, len(pkgs))
	for _, p := range pkgs {
		if p.Location == "" || !filepath.IsLocal(filepath.FromSlash(p.Location)) {
			return nil, fmt.Errorf("write metadata in %s: package %s: bad location %q", dir, p.NEVRA(), p.Location)
		}
		if seen[p.Location] {
			return nil, fmt.Errorf("write metadata in %s: two packages at %s", dir, p.Location)
		}
		seen[p.Location] = true
	}
	tmp, err := makeTempRepodata(dir)
	if err != nil {
		return nil, fmt.Errorf("write metadata in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	mw := newMetaWriter(dir, tmp, len(pkgs), opts.Compression)
	for _, p := range pkgs {
		mw.add(p)
	}
	data, err := mw.close()
	if err == nil {
		md, err = finishRepodata(dir, tmp, data, mw.cache, &opts)
	}
	if err != nil {
		return nil, fmt.Errorf("write metadata in %s: %w", dir, err)
	}
	return md, nil
}
