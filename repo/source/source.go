// Package source finds source RPMs where upstreams publish them and fetches
// them safely into the artifact store.
//
// A Source lists packages and opens one. Its kind follows the configured
// URL: rpm-md (a yum repository over https, http or file, optionally with
// an entitlement client certificate and repo_gpgcheck), dir (a local folder
// of *.src.rpm or an HTTP index page linking them), s3 (a bucket prefix
// through repo/store) and dist-git (CentOS-style import tags plus a
// lookaside cache, built into SRPMs with rpmbuild -bs). Fetch streams one
// package into a Store, verifying its size, its checksum and its OpenPGP
// signature before anything is stored. Which kernels belong to a stream is
// kernelnvr.Rule's to say (the watch and `kabiforge rebuild` ask it).
//
// Keep a Source for the life of a worker: it remembers the last
// repomd.xml or index page, so polling an unchanged upstream costs one
// conditional request answered 304 Not Modified.
//
// Errors are classified: *BadInputError (never retry), *AccessError (fix
// the configuration) and *NetworkError (retry later; see Retryable).
package source

import (
	"context"
	"fmt"
	"io"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// Source lists source packages and opens them.
type Source interface {
	// List returns every package the source offers, in its own order.
	List(ctx context.Context) ([]Package, error)
	// Open streams one listed package's bytes. The caller closes the reader.
	Open(ctx context.Context, pkg Package) (io.ReadCloser, error)
}

// Package is one package a source offers.
type Package struct {
	// NEVRA's Epoch is "" for packages without an epoch or with epoch 0.
	NEVRA rpm.NEVRA
	// Location is the package's slash path relative to the source's root;
	// it never starts with "/" and never holds a ".." segment.
	Location string
	// Size in bytes, -1 when the source does not say.
	Size int64
	// Checksum of the whole file as the source gives it; zero when it
	// gives none.
	Checksum Checksum
	// Vouched is true when the source's own signature covers Checksum
	// (rpm-md with a verified repomd.xml.asc).
	Vouched bool
}

// Name returns the package name.
func (p Package) Name() string { return p.NEVRA.Name }

// IsSource reports whether the listing says this is a source package.
func (p Package) IsSource() bool { return p.NEVRA.Arch == "src" }

// Filename returns the last element of Location.
func (p Package) Filename() string {
	return path.Base(p.Location)
}

// Checksum is a digest as rpm-md writes it: a type (sha256, sha1 ...) and
// lower-case hex.
type Checksum struct {
	Type, Hex string
}

// IsZero reports whether no checksum is known.
func (c Checksum) IsZero() bool { return c.Hex == "" }

// String returns "type:hex".
func (c Checksum) String() string { return c.Type + ":" + c.Hex }

// Options tune New. The zero value is usable.
type Options struct {
	// Keys verify repomd.xml.asc when the source sets repo_gpgcheck. Nil
	// means load the source's Keys files.
	Keys *sign.Keyring
	// S3 is the S3 service configuration for s3:// sources.
	S3 config.S3
	// Retries is how often a network failure is retried within one call;
	// 0 means 3, negative means none.
	Retries int
	// Backoff is the first pause between retries, doubled each time; 0
	// means 250ms.
	Backoff time.Duration
	// MaxMetadata bounds every metadata file, compressed and uncompressed;
	// 0 means 512 MiB.
	MaxMetadata int64
	// Timeout bounds connecting and waiting for response headers; 0 means
	// 30s. Bodies are bounded by the caller's context only.
	Timeout time.Duration
}

func (o Options) retries() int {
	switch {
	case o.Retries < 0:
		return 0
	case o.Retries == 0:
		return 3
	}
	return o.Retries
}

func (o Options) backoff() time.Duration {
	if o.Backoff <= 0 {
		return 250 * time.Millisecond
	}
	return o.Backoff
}

func (o Options) maxMetadata() int64 {
	if o.MaxMetadata <= 0 {
		return 512 << 20
	}
	return o.MaxMetadata
}

// New returns the source cfg describes. The kind is cfg.Kind, or follows
// the URL when empty: s3:// is s3, http(s):// is rpm-md, file:// and plain
// paths are dir. An rpm-md source may also be a file:// URL.
func New(ctx context.Context, cfg config.Source, opts Options) (Source, error) {
	kind := cfg.Kind
	if kind == "" {
		kind = kindOf(cfg.URL)
	}
	if cfg.RepoGPGCheck && opts.Keys == nil {
		if len(cfg.Keys) == 0 {
			return nil, fmt.Errorf("source %s: repo_gpgcheck needs keys", cfg.Name)
		}
		kr, err := sign.LoadKeyring(cfg.Keys...)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", cfg.Name, err)
		}
		opts.Keys = kr
	}
	var (
		src Source
		err error
	)
	switch kind {
	case config.SourceRPMMD:
		src, err = newRPMMD(cfg, opts)
	case config.SourceDir:
		src, err = newDir(cfg, opts)
	case config.SourceS3:
		src, err = newS3(ctx, cfg, opts)
	case config.SourceDistGit:
		src, err = newDistGit(cfg, opts)
	default:
		err = fmt.Errorf("unknown kind %q", kind)
	}
	if err != nil {
		return nil, fmt.Errorf("source %s: %w", cfg.Name, err)
	}
	return src, nil
}

func kindOf(u string) config.SourceKind {
	switch {
	case strings.HasPrefix(u, "s3://"):
		return config.SourceS3
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		return config.SourceRPMMD
	}
	return config.SourceDir
}

// localPath returns the folder a file:// URL or plain path names.
func localPath(raw string) (string, bool) {
	if !strings.Contains(raw, "://") {
		return raw, raw != ""
	}
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "file" || (u.Host != "" && u.Host != "localhost") || u.Path == "" {
		return "", false
	}
	return u.Path, true
}
