// Package publish applies change sets to a signed rpm-md repository held in
// a store.Store, so that a dnf client reading at any moment sees either the
// old or the new repository, never a mix:
//
//  1. packages are uploaded under content-addressed keys
//     (Packages/<sha256>/<file>.rpm);
//  2. metadata is written under checksum-prefixed names, never over a file
//     a client may read;
//  3. repomd.xml.asc is written, then repomd.xml, each with a
//     compare-and-swap on the version this attempt read: a concurrent
//     publisher gets store.ErrConflict and starts again from the new state;
//  4. a journal (JournalKey) records which files each repomd generation
//     named and when it was replaced; files are deleted only when every
//     generation naming them was replaced more than Config.Window ago.
//
// dnf (librepo) GETs repomd.xml and then repomd.xml.asc, so a publish
// between the two GETs can hand a client a signature of another repomd.xml.
// To close that window, repomd.xml.asc holds one signature packet per
// generation still within the window, the newest first: librepo with
// key-rotation support accepts any valid signature and so never fails. Older
// librepo (1.14.5 on Debian 12, seen here) checks only the first signature;
// for it the window remains, from the repomd.xml.asc write to the repomd.xml
// write plus the client's gap between its two GETs (tests measure it),
// except for clients of `kabiforge repo serve` (repo/serve), which hands
// each client the signature over the repomd.xml it received first. A
// failed repomd.xml write puts the previous repomd.xml.asc back, and a
// publisher finding a repomd.xml.asc whose first signature is not over
// repomd.xml waits (Config.Stale) for the publish in flight to finish.
package publish

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"time"

	"github.com/kabiforge/kabiforge/config"

	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/store"
)

// Config describes a repository and how to publish it.
type Config struct {
	// Name names the repository: RPM-GPG-KEY-<Name>, <Name>.repo and the
	// <Name>-release package.
	Name string
	// BaseURL is where clients reach the repository root; it goes into
	// <Name>.repo. Empty means no .repo file and no release package.
	BaseURL string
	// Signer signs repomd.xml and, with SignPackages, the added packages.
	Signer *sign.Signer
	// SignPackages signs a copy of each added package before upload.
	SignPackages bool
	// ReleasePackage builds <Name>-release with rpmbuild when the
	// repository has none.
	ReleasePackage bool
	// ModuleCert is the DER certificate kernel modules and kernels are
	// signed with; when set it is published as SECURE-BOOT-KEY-<Name>.der
	// at the root and in <Name>-release under /etc/pki/<Name>/.
	ModuleCert []byte
	// Retention chooses the kernels kept.
	Retention Retention
	// Window is how long replaced metadata and removed packages stay
	// readable; 0 means one hour. It must exceed the longest publish.
	Window time.Duration
	// MaxSignatures caps the signatures in repomd.xml.asc; 0 means 8.
	MaxSignatures int
	// MaxAttempts bounds retries after conflicts; 0 means 50.
	MaxAttempts int
	// Stale is how long a publish that wrote repomd.xml.asc but not yet
	// repomd.xml is waited for before its signature is overwritten; 0
	// means one minute.
	Stale time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// TempDir holds working files; "" means os.TempDir().
	TempDir string
	// Pages, when set, renders files describing the repository (the
	// compatibility page) that are committed with its metadata.
	Pages PageFunc
	// Logf, when set, receives progress messages.
	Logf func(format string, args ...any)
}

// ChangeSet is what one publish changes.
type ChangeSet struct {
	// Add are local RPM files; a package replaces any of the same NEVRA
	// unless it is the same build (see sameBuild).
	Add []string
	// Remove are NEVRAs (name-[epoch:]version-release.arch) to remove;
	// ones not in the repository are ignored.
	Remove []string
}

// Result says what a publish did.
type Result struct {
	// Committed is false when the change set changed nothing.
	Committed bool
	Revision  string
	// Packages is how many packages the repository now lists.
	Packages int
	// Uploaded and Skipped count added packages written and found present.
	Uploaded, Skipped int
	// Dropped are the NEVRAs removed, by the change set or by retention.
	Dropped []string
	// Deleted counts the files the cleanup deleted.
	Deleted int
	// Attempts counts the tries, 1 without conflicts.
	Attempts int
}

// Publisher publishes to one repository. Several publishers, in one process
// or many, may publish to the same repository at once.
type Publisher struct {
	store store.Store
	cfg   Config
	kr    *sign.Keyring
}

// New checks cfg and returns a Publisher writing to s.
func New(s store.Store, cfg Config) (*Publisher, error) {
	if !validName.MatchString(cfg.Name) {
		return nil, fmt.Errorf("publish: repository name %q: want letters, digits and ._+- only", cfg.Name)
	}
	if cfg.Signer == nil {
		return nil, errors.New("publish: a signer is required (repo_gpgcheck clients need repomd.xml.asc)")
	}
	if cfg.Window <= 0 {
		cfg.Window = config.DefaultWindow
	}
	if cfg.MaxSignatures <= 0 {
		cfg.MaxSignatures = 8
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 50
	}
	if cfg.Stale <= 0 {
		cfg.Stale = time.Minute
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logf == nil {
		cfg.Logf = func(string, ...any) {}
	}
	return &Publisher{store: s, cfg: cfg, kr: cfg.Signer.Key().Keyring()}, nil
}

// verifier is a store that checks, before it is written to, that it can
// keep the promises the publish protocol relies on (store.S3: conditional
// writes); nothing is uploaded to one that cannot.
type verifier interface {
	Verify(ctx context.Context) error
}

// ErrTooManyConflicts means other publishers kept winning.
var ErrTooManyConflicts = errors.New("publish: too many conflicting publishers")

// Publish applies cs, retrying from the new state after conflicts, then
// deletes what the window no longer protects.
func (p *Publisher) Publish(ctx context.Context, cs ChangeSet) (*Result, error) {
	if v, ok := p.store.(verifier); ok {
		if err := v.Verify(ctx); err != nil {
			return nil, fmt.Errorf("publish: %w", err)
		}
	}
	work, err := os.MkdirTemp(p.cfg.TempDir, "kabiforge-publish-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(work)
	adds, err := p.stage(ctx, work, cs.Add)
	if err != nil {
		return nil, err
	}
	res := &Result{}
	carry := &carryOver{release: releaseCache{dir: work}}
	for attempt := 0; ; attempt++ {
		if attempt == p.cfg.MaxAttempts {
			return res, ErrTooManyConflicts
		}
		res.Attempts = attempt + 1
		dir, err := os.MkdirTemp(work, "attempt-")
		if err != nil {
			return nil, err
		}
		done, err := p.attempt(ctx, attemptInput{dir: dir, adds: adds, remove: cs.Remove, carry: carry})
		done.result(res)
		os.RemoveAll(dir)
		if err == nil {
			break
		}
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, errInFlight) {
			return res, err
		}
		p.cfg.Logf("publish %s: %v; retrying", p.cfg.Name, err)
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return res, err
		}
	}
	n, err := p.Cleanup(ctx)
	res.Deleted = n
	if err != nil {
		return res, fmt.Errorf("published revision %s, but %w", res.Revision, err)
	}
	return res, nil
}

var errInFlight = errors.New("another publish is between repomd.xml.asc and repomd.xml")

func backoff(attempt int) time.Duration {
	d := time.Duration(5<<min(attempt, 6)) * time.Millisecond
	return d/2 + rand.N(d)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
