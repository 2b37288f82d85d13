package source

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"strings"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/digest"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/store"
)

// DefaultMaxSize bounds a fetched package when FetchOptions.MaxSize is 0.
// RHEL kernel SRPMs are about 140 MB.
const DefaultMaxSize = 1 << 30

// FetchOptions say how Fetch verifies a package.
type FetchOptions struct {
	// Keys are the upstream's OpenPGP keys; the package must carry a
	// signature by one of them that verifies.
	Keys *sign.Keyring
	// Unsigned skips signature verification. Only by explicit choice:
	// with Keys nil and Unsigned false, Fetch refuses every package.
	Unsigned bool
	// MaxSize bounds the download; 0 means DefaultMaxSize.
	MaxSize int64
	// TempDir holds the download while it is verified; "" means os.TempDir.
	TempDir string
}

// Fetched describes a package Fetch stored.
type Fetched struct {
	// Key is the store key: StoreKey(SHA256, filename).
	Key    string
	SHA256 string
	Size   int64
	// NEVRA is read from the package's own header.
	NEVRA rpm.NEVRA
	// Signatures that verified; empty for an unsigned fetch.
	Signatures []sign.RPMSignature
}

// StoreKey is where Fetch stores a package: content-addressed by its
// sha256, with its file name kept for people reading the store.
func StoreKey(sha256hex, filename string) string {
	return "sources/sha256/" + sha256hex + "/" + filename
}

// Fetch downloads pkg from src into st and returns where it is. Before
// anything is stored it checks that the download is no larger than the
// limit and exactly pkg.Size when known, that it matches pkg.Checksum when
// known, that it is an RPM whose header names pkg.NEVRA, and that it is
// signed by one of opts.Keys (unless opts.Unsigned). Any failure of these
// is a *BadInputError. A package already in the store is not written again.
func Fetch(ctx context.Context, src Source, pkg Package, st store.Store, opts FetchOptions) (*Fetched, error) {
	if opts.Keys == nil && !opts.Unsigned {
		return nil, errors.New("fetch: no upstream keys and unsigned not allowed")
	}
	name := pkg.NEVRA.String()
	if err := checkLocation(pkg.Location); err != nil {
		return nil, &BadInputError{Input: name, Err: err}
	}
	tmp, sum, err := download(ctx, src, pkg, opts)
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp)
	got, err := verifyFile(tmp, name, pkg, opts)
	if err != nil {
		return nil, err
	}
	got.SHA256 = sum
	got.Key = StoreKey(sum, got.NEVRA.Filename())
	if err := put(ctx, st, got.Key, tmp); err != nil {
		return nil, err
	}
	got.Size = fileSize(tmp)
	return got, nil
}

// download writes pkg to a temporary file, checking size and checksum, and
// returns the file's path and its sha256.
func download(ctx context.Context, src Source, pkg Package, opts FetchOptions) (string, string, error) {
	name := pkg.NEVRA.String()
	limit := opts.MaxSize
	if limit <= 0 {
		limit = DefaultMaxSize
	}
	if pkg.Size > limit {
		return "", "", badInput(name, ErrTooLarge, "listed as %d bytes, limit %d", pkg.Size, limit)
	}
	var want hash.Hash
	if !pkg.Checksum.IsZero() {
		if err := checkChecksum(pkg.Checksum); err != nil {
			return "", "", badInput(name, ErrMalformed, "%v", err)
		}
		want, _ = digest.New(pkg.Checksum.Type)
	}
	rc, err := src.Open(ctx, pkg)
	if err != nil {
		return "", "", err
	}
	defer rc.Close()
	f, err := os.CreateTemp(opts.TempDir, "kabiforge-fetch-*.rpm")
	if err != nil {
		return "", "", fmt.Errorf("fetch %s: %w", name, err)
	}
	sha := sha256.New()
	w := io.MultiWriter(f, sha)
	if want != nil {
		w = io.MultiWriter(f, sha, want)
	}
	n, err := io.Copy(w, &limitReader{r: rc, n: limit})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	fail := func(err error) (string, string, error) {
		os.Remove(f.Name())
		return "", "", err
	}
	switch {
	case errors.Is(err, ErrTooLarge):
		return fail(badInput(name, ErrTooLarge, "more than %d bytes", limit))
	case err != nil:
		return fail(fmt.Errorf("fetch %s: %w", name, err))
	case pkg.Size >= 0 && n < pkg.Size:
		return fail(badInput(name, ErrTruncated, "%d of %d bytes", n, pkg.Size))
	case pkg.Size >= 0 && n > pkg.Size:
		return fail(badInput(name, ErrMismatch, "%d bytes, listed as %d", n, pkg.Size))
	}
	if want != nil {
		if got := hex.EncodeToString(want.Sum(nil)); !strings.EqualFold(got, pkg.Checksum.Hex) {
			return fail(badInput(name, ErrChecksum, "%s %s, listed as %s", pkg.Checksum.Type, got, pkg.Checksum.Hex))
		}
	}
	return f.Name(), hex.EncodeToString(sha.Sum(nil)), nil
}

// verifyFile checks the downloaded file's header and signatures.
func verifyFile(path, name string, pkg Package, opts FetchOptions) (*Fetched, error) {
	h, err := rpm.Open(path)
	if err != nil {
		return nil, badInput(name, ErrMalformed, "not a readable RPM: %v", err)
	}
	if h.NEVRA.Name != pkg.NEVRA.Name || h.NEVRA.Version != pkg.NEVRA.Version ||
		h.NEVRA.Release != pkg.NEVRA.Release || (pkg.NEVRA.Arch == "src") != h.IsSource() ||
		epoch(h.NEVRA.Epoch) != epoch(pkg.NEVRA.Epoch) {
		return nil, badInput(name, ErrMismatch, "the package's header says %s", h.NEVRA)
	}
	got := &Fetched{NEVRA: h.NEVRA}
	if opts.Keys != nil {
		sigs, err := opts.Keys.VerifyRPM(path)
		if err != nil {
			// The temporary file's name means nothing to the reader.
			msg := strings.Replace(err.Error(), "verify "+path+": ", "", 1)
			return nil, badInput(name, ErrSignature, "%s", msg)
		}
		got.Signatures = sigs
	}
	return got, nil
}

func epoch(e string) string {
	if e == "" {
		return "0"
	}
	return e
}

// put stores the file under key unless the key already holds it.
func put(ctx context.Context, st store.Store, key, path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := st.PutIfAbsent(ctx, key, f); err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("store %s: %w", key, err)
	}
	return nil
}

func fileSize(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return -1
	}
	return st.Size()
}

// FetchOptionsFor returns the verification a configured source asks for:
// its Keys loaded into a keyring, or Unsigned when (and only when) the
// configuration says so.
func FetchOptionsFor(cfg config.Source) (FetchOptions, error) {
	if cfg.Unsigned {
		return FetchOptions{Unsigned: true}, nil
	}
	if len(cfg.Keys) == 0 {
		return FetchOptions{}, fmt.Errorf("source %s: no keys and not marked unsigned", cfg.Name)
	}
	kr, err := sign.LoadKeyring(cfg.Keys...)
	if err != nil {
		return FetchOptions{}, fmt.Errorf("source %s: %w", cfg.Name, err)
	}
	return FetchOptions{Keys: kr}, nil
}
