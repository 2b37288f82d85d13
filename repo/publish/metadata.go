package publish

import (
	"context"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
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

// buildMetadata writes rpm-md metadata for entries in dir, which holds the
// current metadata in dir/repodata (see readState). repodata exports no
// writer for packages held elsewhere than dir, so each package already
// described is stood in for by a sparse file of its size and mtime, which
// Index's update mode recognises and describes from the current metadata
// without reading; new packages are linked in and read.
func buildMetadata(ctx context.Context, dir string, entries []*entry, now func() time.Time) (*newMetadata, error) {
	for _, e := range entries {
		if err := store.ValidKey(e.key()); err != nil || path.Clean(e.key()) != e.key() || (e.Pkg != nil && e.Pkg.LocationBase != "") {
			return nil, fmt.Errorf("the repository lists a package at %q: not a file inside the repository", e.key())
		}
		dst := filepath.Join(dir, filepath.FromSlash(e.key()))
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return nil, err
		}
		var err error
		if e.Pkg != nil {
			err = placeholder(dst, e.Pkg.PackageSize, e.Pkg.FileTime)
		} else {
			err = linkOrCopy(e.Path, dst)
		}
		if err != nil {
			return nil, fmt.Errorf("stage %s: %w", e.key(), err)
		}
	}
	res, err := repodata.Index(ctx, dir, repodata.Options{Update: true, Now: now, Workers: 2})
	if err != nil {
		return nil, err
	}
	if res.Reused != res.Packages-countNew(entries) {
		return nil, fmt.Errorf("index reused %d of %d existing package records", res.Reused, res.Packages-countNew(entries))
	}
	out := &newMetadata{md: res.Repomd, files: map[string]string{}}
	if out.repomd, err = os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml")); err != nil {
		return nil, err
	}
	for _, d := range res.Repomd.Data {
		out.files[d.Location] = filepath.Join(dir, filepath.FromSlash(d.Location))
	}
	return out, nil
}

func countNew(entries []*entry) int {
	n := 0
	for _, e := range entries {
		if e.Pkg == nil {
			n++
		}
	}
	return n
}

// placeholder makes a sparse file of size bytes modified at mtime.
func placeholder(path string, size, mtime int64) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	t := time.Unix(mtime, 0)
	return os.Chtimes(path, t, t)
}

func linkOrCopy(src, dst string) error {
	if err := os.Link(src, dst); err == nil {
		return nil
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	return os.Chtimes(dst, st.ModTime(), st.ModTime())
}
