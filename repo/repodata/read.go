package repodata

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/kabiforge/kabiforge/internal/digest"
)

// Repo is a repository's metadata as read back from disk.
type Repo struct {
	Repomd *Repomd
	// Packages are in primary.xml's order, with filelists' complete file
	// lists and other's changelogs merged in.
	Packages []*Package
}

// ReadRepo reads the rpm-md metadata of the repository rooted at dir
// (dir/repodata/repomd.xml and the primary, filelists and other files it
// lists), verifying every file's size and checksums against repomd.xml.
func ReadRepo(dir string) (*Repo, error) {
	path := filepath.Join(dir, "repodata", "repomd.xml")
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read repository %s: %w", dir, err)
	}
	md, err := DecodeRepomd(f)
	f.Close()
	if err != nil {
		return nil, fmt.Errorf("read repository %s: %s: %w", dir, path, err)
	}
	repo := &Repo{Repomd: md}
	primary := md.Find("primary")
	if primary == nil {
		return nil, fmt.Errorf("read repository %s: repomd.xml lists no primary", dir)
	}
	// The three documents decode in parallel; filelists and other are
	// merged into primary's packages afterwards.
	var (
		lists  []PackageFiles
		others []PackageChangelogs
		errs   [3]error
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		errs[0] = readData(dir, primary, func(r io.Reader) (err error) {
			repo.Packages, err = DecodePrimary(r)
			return err
		})
	})
	if d := md.Find("filelists"); d != nil {
		wg.Go(func() {
			errs[1] = readData(dir, d, func(r io.Reader) (err error) {
				lists, err = DecodeFilelists(r)
				return err
			})
		})
	}
	if d := md.Find("other"); d != nil {
		wg.Go(func() {
			errs[2] = readData(dir, d, func(r io.Reader) (err error) {
				others, err = DecodeOther(r)
				return err
			})
		})
	}
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		return nil, fmt.Errorf("read repository %s: %w", dir, err)
	}
	if md.Find("filelists") != nil {
		if err := mergeFilelists(repo.Packages, lists); err != nil {
			return nil, fmt.Errorf("read repository %s: %s: %w", dir, md.Find("filelists").Location, err)
		}
	}
	if md.Find("other") != nil {
		if err := mergeOther(repo.Packages, others); err != nil {
			return nil, fmt.Errorf("read repository %s: %s: %w", dir, md.Find("other").Location, err)
		}
	}
	return repo, nil
}

// OpenData opens the file d describes, relative to the repository root dir.
func OpenData(dir string, d *Data) (*os.File, error) {
	if !filepath.IsLocal(filepath.FromSlash(d.Location)) {
		return nil, fmt.Errorf("%s: location %q is outside the repository", d.Type, d.Location)
	}
	return os.Open(filepath.Join(dir, filepath.FromSlash(d.Location)))
}

// readData streams the file d describes through decode, then checks its
// size and checksums.
func readData(dir string, d *Data, decode func(io.Reader) error) error {
	f, err := OpenData(dir, d)
	if err != nil {
		return err
	}
	defer f.Close()
	sum, err := newHash(d.ChecksumType)
	if err != nil {
		return fmt.Errorf("%s: %w", d.Location, err)
	}
	raw := &countingWriter{w: sum}
	zr, err := Decompress(io.TeeReader(f, raw))
	if err != nil {
		return fmt.Errorf("%s: %w", d.Location, err)
	}
	defer zr.Close()
	var open hash.Hash
	opened := &countingWriter{w: io.Discard}
	if d.OpenChecksum != "" {
		if open, err = newHash(d.OpenChecksumType); err != nil {
			return fmt.Errorf("%s: open-checksum: %w", d.Location, err)
		}
		opened.w = open
	}
	content := io.TeeReader(zr, opened)
	if err := decode(content); err != nil {
		return fmt.Errorf("%s: %w", d.Location, err)
	}
	if _, err := io.Copy(io.Discard, content); err != nil {
		return fmt.Errorf("%s: %w", d.Location, err)
	}
	if _, err := io.Copy(io.Discard, io.TeeReader(f, raw)); err != nil {
		return fmt.Errorf("%s: %w", d.Location, err)
	}
	if d.Size >= 0 && raw.n != d.Size {
		return fmt.Errorf("%s: size %d, repomd.xml says %d", d.Location, raw.n, d.Size)
	}
	if got := hex.EncodeToString(sum.Sum(nil)); got != d.Checksum {
		return fmt.Errorf("%s: %s checksum mismatch: file has %s, repomd.xml says %s", d.Location, d.ChecksumType, got, d.Checksum)
	}
	if open != nil {
		if d.OpenSize >= 0 && opened.n != d.OpenSize {
			return fmt.Errorf("%s: open-size %d, repomd.xml says %d", d.Location, opened.n, d.OpenSize)
		}
		if got := hex.EncodeToString(open.Sum(nil)); got != d.OpenChecksum {
			return fmt.Errorf("%s: %s open-checksum mismatch: content has %s, repomd.xml says %s", d.Location, d.OpenChecksumType, got, d.OpenChecksum)
		}
	}
	return nil
}

// newHash returns the hash of a checksum type in repomd.xml: those
// digest.New knows, and md5, which old repositories still carry.
func newHash(typ string) (hash.Hash, error) {
	if typ == "md5" {
		return md5.New(), nil
	}
	return digest.New(typ)
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// byPkgID indexes packages by pkgid; several packages may share one (the
// same file at two locations), so each id maps to a queue in primary order.
type byPkgID map[string][]*Package

func indexPackages(pkgs []*Package) byPkgID {
	m := make(byPkgID, len(pkgs))
	for _, p := range pkgs {
		m[p.Checksum] = append(m[p.Checksum], p)
	}
	return m
}

// take returns the next package with id, name and arch.
func (m byPkgID) take(id, name, arch string) (*Package, error) {
	q := m[id]
	if len(q) == 0 {
		return nil, fmt.Errorf("package %s.%s: pkgid %s is not in primary.xml (or listed twice)", name, arch, id)
	}
	p := q[0]
	m[id] = q[1:]
	if p.Name != name || p.Arch != arch {
		return nil, fmt.Errorf("pkgid %s is %s.%s here but %s.%s in primary.xml", id, name, arch, p.Name, p.Arch)
	}
	return p, nil
}

func mergeFilelists(pkgs []*Package, lists []PackageFiles) error {
	if len(lists) != len(pkgs) {
		return fmt.Errorf("filelists.xml has %d packages, primary.xml %d", len(lists), len(pkgs))
	}
	idx := indexPackages(pkgs)
	for _, l := range lists {
		p, err := idx.take(l.PkgID, l.Name, l.Arch)
		if err != nil {
			return fmt.Errorf("filelists.xml: %w", err)
		}
		p.Files = l.Files
	}
	return nil
}

func mergeOther(pkgs []*Package, others []PackageChangelogs) error {
	if len(others) != len(pkgs) {
		return fmt.Errorf("other.xml has %d packages, primary.xml %d", len(others), len(pkgs))
	}
	idx := indexPackages(pkgs)
	for _, o := range others {
		p, err := idx.take(o.PkgID, o.Name, o.Arch)
		if err != nil {
			return fmt.Errorf("other.xml: %w", err)
		}
		p.Changelogs = o.Changelogs
	}
	return nil
}
