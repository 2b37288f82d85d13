package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/store"
)

func newS3(ctx context.Context, cfg config.Source, opts Options) (Source, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || u.Scheme != "s3" || u.Host == "" {
		return nil, fmt.Errorf("url %q: want s3://bucket/prefix", cfg.URL)
	}
	st, err := store.Open(ctx, opts.S3.URL(cfg.URL))
	if err != nil {
		return nil, err
	}
	return FromStore(st), nil
}

// FromStore returns a source listing the *.rpm objects of a store (all of
// it: open the store at the bucket prefix): source packages, and binary
// ones such as a reference kernel's kernel-core. NEVRAs come from the file
// names; sizes from the store.
func FromStore(st store.Store) Source { return storeSource{st} }

type storeSource struct{ st store.Store }

// List lists the store's *.rpm objects.
func (s storeSource) List(ctx context.Context) ([]Package, error) {
	var pkgs []Package
	for info, err := range s.st.List(ctx, "") {
		if err != nil {
			return nil, &NetworkError{URL: "store list", Err: err}
		}
		if !strings.HasSuffix(info.Key, rpmSuffix) {
			continue
		}
		if err := checkLocation(info.Key); err != nil {
			return nil, &BadInputError{Input: info.Key, Err: err}
		}
		nevra, err := rpm.ParseNEVRA(strings.TrimSuffix(path.Base(info.Key), ".rpm"))
		if err != nil {
			return nil, badInput(info.Key, ErrMalformed, "not name-version-release.arch.rpm")
		}
		pkgs = append(pkgs, Package{NEVRA: nevra, Location: info.Key, Size: info.Size})
	}
	return pkgs, nil
}

// Open gets the object.
func (s storeSource) Open(ctx context.Context, pkg Package) (io.ReadCloser, error) {
	if err := checkLocation(pkg.Location); err != nil {
		return nil, &BadInputError{Input: pkg.Location, Err: err}
	}
	rc, _, err := s.st.Get(ctx, pkg.Location)
	if errors.Is(err, store.ErrNotExist) {
		return nil, &AccessError{URL: pkg.Location, Err: err}
	}
	if err != nil {
		return nil, &NetworkError{URL: pkg.Location, Err: err}
	}
	return rc, nil
}
