package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/store"
)

// Snapshot is the repository a publish is about to commit, for the pages
// that describe it.
type Snapshot struct {
	// Revision is the revision repomd.xml will carry.
	Revision string
	// Packages are every package the repository will list.
	Packages []*repodata.Package
}

// Page is a file describing the repository (the compatibility page,
// status.json), committed with the metadata: stored under a
// checksum-prefixed name named in repomd.xml (data type Type), so a client
// reads the page of the metadata it has, then copied to Name at the root
// for browsers.
type Page struct {
	// Type is its repomd.xml data type, e.g. "kabiforge-index".
	Type string
	// Name is the root key of its copy, e.g. "index.html".
	Name string
	Data []byte
}

// PageFunc renders the pages of a snapshot. It must be deterministic: a
// publish that changes no package commits only when a page changed.
type PageFunc func(ctx context.Context, s Snapshot) ([]Page, error)

// pages renders the configured pages of the repository entries will hold.
func (p *Publisher) pages(ctx context.Context, revision string, entries []*entry) ([]Page, error) {
	if p.cfg.Pages == nil {
		return nil, nil
	}
	s := Snapshot{Revision: revision}
	for _, e := range entries {
		s.Packages = append(s.Packages, e.desc())
	}
	pages, err := p.cfg.Pages(ctx, s)
	if err != nil {
		return nil, fmt.Errorf("render pages of %s: %w", p.cfg.Name, err)
	}
	for _, pg := range pages {
		if pg.Type == "" || strings.Contains(pg.Name, "/") || store.ValidKey(pg.Name) != nil {
			return nil, fmt.Errorf("render pages of %s: page %q of type %q: want a type and a root file name", p.cfg.Name, pg.Name, pg.Type)
		}
	}
	return pages, nil
}

// pagesCurrent reports whether the pages of the current repository, at its
// revision, are the ones its repomd.xml names.
func (p *Publisher) pagesCurrent(ctx context.Context, st *state, entries []*entry) (bool, error) {
	pages, err := p.pages(ctx, st.md.Revision, entries)
	if err != nil {
		return false, err
	}
	if len(pages) != len(st.pageData) {
		return false, nil
	}
	for _, pg := range pages {
		d := findData(st.pageData, pg.Type)
		if d == nil || d.Checksum != sum256(pg.Data) {
			return false, nil
		}
	}
	return true, nil
}

func findData(ds []repodata.Data, typ string) *repodata.Data {
	for i := range ds {
		if ds[i].Type == typ {
			return &ds[i]
		}
	}
	return nil
}

// addPages uploads the pages under checksum-prefixed names and names them
// in the new repomd.xml.
func (p *Publisher) addPages(ctx context.Context, dir string, meta *newMetadata, pages []Page) error {
	for _, pg := range pages {
		sum := sha256.Sum256(pg.Data)
		hexSum := hex.EncodeToString(sum[:])
		loc := "repodata/" + hexSum + "-" + pg.Name
		local := filepath.Join(dir, filepath.FromSlash(loc))
		if err := os.WriteFile(local, pg.Data, 0o644); err != nil {
			return err
		}
		if _, err := p.ensure(ctx, loc, local); err != nil {
			return err
		}
		meta.md.Data = append(meta.md.Data, repodata.Data{Type: pg.Type, ChecksumType: "sha256", Checksum: hexSum,
			Location: loc, Timestamp: p.cfg.Now().Unix(), Size: int64(len(pg.Data)), OpenSize: -1})
		meta.files[loc] = local
	}
	if len(pages) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := meta.md.Encode(&buf); err != nil {
		return fmt.Errorf("write repomd.xml: %w", err)
	}
	meta.repomd = buf.Bytes()
	return nil
}

// copyPages writes each page's copy at the root, for browsers.
func (p *Publisher) copyPages(ctx context.Context, pages []Page) error {
	for _, pg := range pages {
		if err := p.putIfChanged(ctx, pg.Name, pg.Data); err != nil {
			return err
		}
	}
	return nil
}
