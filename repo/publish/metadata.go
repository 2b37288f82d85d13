package publish

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/store"
)

// entry is one package of the repository being published: either already
// in the store (Pkg set, described by the current metadata) or new (Path
// set: a local file to upload under Key).
type entry struct {
	Pkg  *repodata.Package
	Path string
	Key  string
	Sum  string
	Size int64
	Meta *repodata.Package // new packages: their description, for retention
}

func (e *entry) key() string {
	if e.Pkg != nil {
		return e.Pkg.Location
	}
	return e.Key
}

func (e *entry) desc() *repodata.Package {
	if e.Pkg != nil {
		return e.Pkg
	}
	return e.Meta
}

// newMetadata is what buildMetadata made: repomd.xml's bytes and the
// local paths of the documents it names, by store key.
type newMetadata struct {
	repomd []byte
	md     *repodata.Repomd
	files  map[string]string
}

// buildMetadata writes rpm-md metadata for entries into dir/repodata from
// their records alone (the current metadata's for packages already
// published, Describe's for new ones), listing packages by location as
// repodata.Index does.
func buildMetadata(dir string, entries []*entry, now func() time.Time) (*newMetadata, error) {
	pkgs := make([]*repodata.Package, 0, len(entries))
	for _, e := range entries {
		if err := store.ValidKey(e.key()); err != nil || path.Clean(e.key()) != e.key() || (e.Pkg != nil && e.Pkg.LocationBase != "") {
			return nil, fmt.Errorf("the repository lists a package at %q: not a file inside the repository", e.key())
		}
		pkgs = append(pkgs, e.desc())
	}
	slices.SortStableFunc(pkgs, func(a, b *repodata.Package) int { return strings.Compare(a.Location, b.Location) })
	md, err := repodata.WriteMetadata(dir, pkgs, repodata.Options{Now: now})
	if err != nil {
		return nil, err
	}
	out := &newMetadata{md: md, files: map[string]string{}}
	if out.repomd, err = os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml")); err != nil {
		return nil, err
	}
	for _, d := range md.Data {
		out.files[d.Location] = filepath.Join(dir, filepath.FromSlash(d.Location))
	}
	return out, nil
}
