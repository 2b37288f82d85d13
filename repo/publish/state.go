package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/store"
)

// Keys of the two files a client reads first.
const (
	RepomdKey    = "repodata/repomd.xml"
	RepomdAscKey = "repodata/repomd.xml.asc"
)

// state is a repository as one publish attempt found it.
type state struct {
	repomd, asc               []byte // nil when absent
	repomdVersion, ascVersion string // "" when absent
	repomdSum                 string
	md                        *repodata.Repomd
	pkgs                      []*repodata.Package
	// pageData are repomd.xml's entries of the pages (Config.Pages).
	pageData []repodata.Data
}

// generation describes st as a journal generation (without times).
func (st *state) generation() Generation {
	g := Generation{Repomd: st.repomdSum, Revision: st.md.Revision}
	for _, d := range st.md.Data {
		g.Keys = append(g.Keys, d.Location)
	}
	for _, d := range st.pageData {
		g.Keys = append(g.Keys, d.Location)
	}
	for _, p := range st.pkgs {
		g.Keys = append(g.Keys, p.Location)
	}
	return g
}

func sum256(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// getAll reads a whole object; a missing one gives nil, "" and no error.
func getAll(ctx context.Context, s store.Store, key string) ([]byte, string, error) {
	rc, info, err := s.Get(ctx, key)
	if errors.Is(err, store.ErrNotExist) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", key, err)
	}
	return b, info.Version, nil
}

// readState reads repomd.xml, its signature and the primary, filelists and
// other documents it names into dir/repodata, and decodes the packages.
func readState(ctx context.Context, s store.Store, dir string) (*state, error) {
	st := &state{}
	var err error
	if st.repomd, st.repomdVersion, err = getAll(ctx, s, RepomdKey); err != nil {
		return nil, err
	}
	if st.asc, st.ascVersion, err = getAll(ctx, s, RepomdAscKey); err != nil {
		return nil, err
	}
	if st.repomd == nil {
		st.md = &repodata.Repomd{}
		return st, nil
	}
	st.repomdSum = sum256(st.repomd)
	if st.md, err = repodata.DecodeRepomd(bytes.NewReader(st.repomd)); err != nil {
		return nil, fmt.Errorf("%s: %w", RepomdKey, err)
	}
	// Keep only the documents this package rewrites; others would be stale.
	var kept []repodata.Data
	for _, d := range st.md.Data {
		switch d.Type {
		case "primary", "filelists", "other":
			if err := download(ctx, s, d.Location, filepath.Join(dir, filepath.FromSlash(d.Location))); err != nil {
				return nil, err
			}
			kept = append(kept, d)
		default:
			st.pageData = append(st.pageData, d)
		}
	}
	st.md.Data = kept
	if err := os.MkdirAll(filepath.Join(dir, "repodata"), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(filepath.Join(dir, "repodata", "repomd.xml"))
	if err != nil {
		return nil, err
	}
	if err := st.md.Encode(f); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	repo, err := repodata.ReadRepo(dir)
	if err != nil {
		return nil, err
	}
	st.pkgs = repo.Packages
	return st, nil
}

// download copies the object key to the local file dst.
func download(ctx context.Context, s store.Store, key, dst string) error {
	if err := store.ValidKey(key); err != nil || path.Clean(key) != key {
		return fmt.Errorf("repomd.xml names %q: not a file inside the repository", key)
	}
	rc, _, err := s.Get(ctx, key)
	if err != nil {
		return fmt.Errorf("read %s: %w", key, err)
	}
	defer rc.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, rc); err != nil {
		f.Close()
		return fmt.Errorf("read %s: %w", key, err)
	}
	return f.Close()
}
