package source

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"sync"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/sign"
)

const (
	repomdPath   = "repodata/repomd.xml"
	repomdAscMax = 1 << 20
)

// rpmMD is a yum repository: repodata/repomd.xml → primary.
type rpmMD struct {
	f    fetcher
	root *url.URL // nil for file repositories
	keys *sign.Keyring
	opts Options

	mu         sync.Mutex
	lastRepomd []byte // the repomd.xml lastPkgs were read from
	lastPkgs   []Package
}

func newRPMMD(cfg config.Source, opts Options) (*rpmMD, error) {
	c, err := newHTTPClient(cfg.TLS, opts)
	if err != nil {
		return nil, err
	}
	f, root, err := newFetcher(cfg.URL, c)
	if err != nil {
		return nil, err
	}
	s := &rpmMD{f: f, root: root, opts: opts}
	if cfg.RepoGPGCheck {
		s.keys = opts.Keys
	}
	return s, nil
}

// List reads repomd.xml (a conditional request, so an unchanged repository
// costs one 304), checks its detached signature when repo_gpgcheck is set,
// then reads primary, verifying its size and checksum against repomd.xml.
func (s *rpmMD) List(ctx context.Context) ([]Package, error) {
	max := s.opts.maxMetadata()
	md, err := s.f.readAll(ctx, repomdPath, max, true)
	if err != nil {
		return nil, err
	}
	vouched := false
	if s.keys != nil {
		if err := s.verifyRepomd(ctx, md); err != nil {
			return nil, err
		}
		vouched = true
	}
	s.mu.Lock()
	if bytes.Equal(md, s.lastRepomd) {
		pkgs := slices.Clone(s.lastPkgs)
		s.mu.Unlock()
		return pkgs, nil
	}
	s.mu.Unlock()
	pkgs, err := s.readPrimary(ctx, md, vouched)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.lastRepomd, s.lastPkgs = md, pkgs
	s.mu.Unlock()
	return slices.Clone(pkgs), nil
}

func (s *rpmMD) verifyRepomd(ctx context.Context, md []byte) error {
	name := s.f.name(repomdPath + ".asc")
	asc, err := s.f.readAll(ctx, repomdPath+".asc", repomdAscMax, true)
	var ae *AccessError
	if errors.As(err, &ae) {
		return badInput(name, ErrSignature, "repo_gpgcheck is set but there is no signature: %v", err)
	}
	if err != nil {
		return err
	}
	if _, err := s.keys.VerifyDetached(bytes.NewReader(md), bytes.NewReader(asc)); err != nil {
		return badInput(s.f.name(repomdPath), ErrSignature, "%v", err)
	}
	return nil
}

func (s *rpmMD) readPrimary(ctx context.Context, md []byte, vouched bool) ([]Package, error) {
	max := s.opts.maxMetadata()
	mdName := s.f.name(repomdPath)
	repomd, err := repodata.DecodeRepomd(bytes.NewReader(md))
	if err != nil {
		return nil, badInput(mdName, ErrMalformed, "%v", err)
	}
	d := repomd.Find("primary")
	if d == nil {
		return nil, badInput(mdName, ErrMalformed, "no primary data")
	}
	if err := checkLocation(d.Location); err != nil {
		return nil, &BadInputError{Input: mdName, Err: fmt.Errorf("primary: %w", err)}
	}
	name := s.f.name(d.Location)
	if d.Size > max || d.OpenSize > max {
		return nil, badInput(name, ErrTooLarge, "repomd.xml gives %d bytes (%d uncompressed), limit %d", d.Size, d.OpenSize, max)
	}
	raw, err := s.f.readAll(ctx, d.Location, max, false)
	if err != nil {
		return nil, err
	}
	if d.Size >= 0 && int64(len(raw)) != d.Size {
		return nil, badInput(name, ErrTruncated, "%d bytes, repomd.xml says %d", len(raw), d.Size)
	}
	if err := verifyBytes(name, raw, Checksum{d.ChecksumType, d.Checksum}); err != nil {
		return nil, err
	}
	return parsePrimary(name, bytes.NewReader(raw), max, s.root, vouched)
}

// parsePrimary decodes a (compressed) primary.xml of at most max
// uncompressed bytes into Packages, refusing the whole document when any
// package has an unsafe location, a foreign xml:base or a bad checksum.
func parsePrimary(name string, r io.Reader, max int64, root *url.URL, vouched bool) ([]Package, error) {
	rc, err := repodata.Decompress(r)
	if err != nil {
		return nil, badInput(name, ErrMalformed, "%v", err)
	}
	defer rc.Close()
	lr := &limitReader{r: rc, n: max}
	list, err := repodata.DecodePrimary(lr)
	if lr.over {
		return nil, badInput(name, ErrTooLarge, "more than %d bytes uncompressed", max)
	}
	if err != nil {
		return nil, badInput(name, ErrMalformed, "%v", err)
	}
	pkgs := make([]Package, 0, len(list))
	for _, p := range list {
		pkg, err := fromPrimary(p, root, vouched)
		if err != nil {
			return nil, &BadInputError{Input: name, Err: err}
		}
		pkgs = append(pkgs, pkg)
	}
	return pkgs, nil
}

func fromPrimary(p *repodata.Package, root *url.URL, vouched bool) (Package, error) {
	nevra := rpm.NEVRA{Name: p.Name, Epoch: noZero(p.Epoch), Version: p.Version, Release: p.Release, Arch: p.Arch}
	if err := checkLocation(p.Location); err != nil {
		return Package{}, fmt.Errorf("package %s: %w", nevra, err)
	}
	if !sameBase(p.LocationBase, root) {
		return Package{}, fmt.Errorf("package %s: %w: xml:base %q is not this repository", nevra, ErrLocation, p.LocationBase)
	}
	sum := Checksum{Type: p.ChecksumType, Hex: p.Checksum}
	if err := checkChecksum(sum); err != nil {
		return Package{}, fmt.Errorf("package %s: %w: %v", nevra, ErrMalformed, err)
	}
	size := p.PackageSize
	if size <= 0 {
		size = -1
	}
	return Package{NEVRA: nevra, Location: p.Location, Size: size, Checksum: sum, Vouched: vouched}, nil
}

// Open streams the package from the repository.
func (s *rpmMD) Open(ctx context.Context, pkg Package) (io.ReadCloser, error) {
	return s.f.open(ctx, pkg.Location)
}

// limitReader fails once more than n bytes are read and remembers it.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

// Read reads on until the limit is passed, then fails with ErrTooLarge.
func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		l.over = true
		return 0, ErrTooLarge
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	if l.n < 0 {
		l.over = true
		return n, ErrTooLarge
	}
	return n, err
}

// noZero drops an epoch of "0", as rpm prints NEVRAs.
func noZero(e string) string {
	if e == "0" {
		return ""
	}
	return e
}
