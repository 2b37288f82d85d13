package source

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/digest"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// distGit is a CentOS-style dist-git repository: each import is a tag
// imports/<branch>/<name>-<version>-<release> holding SPECS/, SOURCES/ and
// a lookaside index (.<name>.metadata or sources) naming the large files
// kept in the lookaside cache by hash. Open checks out the tag, downloads
// and verifies the lookaside files and builds the SRPM with rpmbuild -bs.
// Such SRPMs carry no signature: the source must be configured unsigned,
// and trust rests on the git remote and the hashes it lists.
type distGit struct {
	remote, branch, lookaside string
	c                         *httpClient
	opts                      Options
}

func newDistGit(cfg config.Source, opts Options) (*distGit, error) {
	if cfg.Branch == "" || strings.ContainsAny(cfg.Branch, "/ \\") || strings.HasPrefix(cfg.Branch, "-") {
		return nil, fmt.Errorf("dist-git branch %q: want a plain name such as c8", cfg.Branch)
	}
	if cfg.Lookaside == "" {
		return nil, fmt.Errorf("dist-git needs a lookaside URL")
	}
	if strings.HasPrefix(cfg.URL, "-") {
		return nil, fmt.Errorf("dist-git url %q", cfg.URL)
	}
	c, err := newHTTPClient(cfg.TLS, opts)
	if err != nil {
		return nil, err
	}
	return &distGit{remote: cfg.URL, branch: cfg.Branch, lookaside: cfg.Lookaside, c: c, opts: opts}, nil
}

func (d *distGit) tagPrefix() string { return "imports/" + d.branch + "/" }

// git runs a git command and classifies its failure.
func (d *distGit) git(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", append([]string{"-c", "advice.detachedHead=false", "-c", "protocol.file.allow=always"}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GIT_TERMINAL_PROMPT=0", "LC_ALL=C")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err == nil {
		return out, nil
	}
	if ctx.Err() != nil {
		return nil, fmt.Errorf("git %s: %w", args[0], ctx.Err())
	}
	msg := strings.TrimSpace(stderr.String())
	for _, s := range []string{"Could not resolve", "Connection", "timed out", "early EOF", "RPC failed", "HTTP 5"} {
		if strings.Contains(msg, s) {
			return nil, &NetworkError{URL: d.remote, Err: fmt.Errorf("git %s: %s", args[0], msg)}
		}
	}
	return nil, &AccessError{URL: d.remote, Err: fmt.Errorf("git %s: %v: %s", args[0], err, msg)}
}

// List reads the remote's import tags of the branch.
func (d *distGit) List(ctx context.Context) ([]Package, error) {
	out, err := d.git(ctx, "", "ls-remote", "--tags", "--refs", "--", d.remote, "refs/tags/"+d.tagPrefix()+"*")
	if err != nil {
		return nil, err
	}
	var pkgs []Package
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		_, ref, ok := strings.Cut(line, "\t")
		if !ok {
			continue
		}
		tag := strings.TrimPrefix(ref, "refs/tags/")
		nevra, err := rpm.ParseNEVR(strings.TrimPrefix(tag, d.tagPrefix()))
		if err != nil || checkLocation(tag) != nil {
			return nil, badInput(d.remote, ErrMalformed, "tag %q is not %s<name>-<version>-<release>", tag, d.tagPrefix())
		}
		nevra.Arch = "src"
		pkgs = append(pkgs, Package{NEVRA: nevra, Location: tag, Size: -1})
	}
	return pkgs, nil
}

// Open builds the SRPM of the import tag pkg.Location; the reader deletes
// it on Close.
func (d *distGit) Open(ctx context.Context, pkg Package) (io.ReadCloser, error) {
	if !strings.HasPrefix(pkg.Location, d.tagPrefix()) || checkLocation(pkg.Location) != nil {
		return nil, badInput(pkg.Location, ErrLocation, "not an import tag of branch %s", d.branch)
	}
	work, err := os.MkdirTemp("", "kabiforge-distgit-*")
	if err != nil {
		return nil, err
	}
	srpm, err := d.build(ctx, work, pkg)
	if err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	f, err := os.Open(srpm)
	if err != nil {
		os.RemoveAll(work)
		return nil, err
	}
	return &removeOnClose{File: f, dir: work}, nil
}

func (d *distGit) build(ctx context.Context, work string, pkg Package) (string, error) {
	tree := filepath.Join(work, "git")
	if _, err := d.git(ctx, "", "clone", "--quiet", "--depth", "1", "--branch", pkg.Location, "--", d.remote, tree); err != nil {
		return "", err
	}
	if err := d.fetchLookaside(ctx, tree, pkg.NEVRA.Name); err != nil {
		return "", err
	}
	specs, _ := filepath.Glob(filepath.Join(tree, "SPECS", "*.spec"))
	if len(specs) != 1 {
		return "", badInput(pkg.Location, ErrMalformed, "%d spec files in SPECS/, want 1", len(specs))
	}
	out := filepath.Join(work, "srpm")
	cmd := exec.CommandContext(ctx, "rpmbuild", "-bs", "--nodeps",
		"--define", "_topdir "+tree,
		"--define", "_sourcedir "+filepath.Join(tree, "SOURCES"),
		"--define", "_srcrpmdir "+out,
		"--define", "dist "+distOf(pkg.NEVRA.Release),
		specs[0])
	if msg, err := cmd.CombinedOutput(); err != nil {
		return "", badInput(pkg.Location, ErrMalformed, "rpmbuild -bs: %v: %s", err, lastLines(msg, 5))
	}
	built, _ := filepath.Glob(filepath.Join(out, "*.src.rpm"))
	if len(built) != 1 {
		return "", badInput(pkg.Location, ErrMalformed, "rpmbuild -bs made %d source packages", len(built))
	}
	return built[0], nil
}

// fetchLookaside downloads the files the tree's lookaside index names into
// SOURCES/, verifying each hash.
func (d *distGit) fetchLookaside(ctx context.Context, tree, name string) error {
	var index string
	for _, p := range []string{"." + name + ".metadata", "sources"} {
		if _, err := os.Stat(filepath.Join(tree, p)); err == nil {
			index = p
			break
		}
	}
	if index == "" {
		return nil // everything is in git
	}
	data, err := os.ReadFile(filepath.Join(tree, index))
	if err != nil {
		return err
	}
	files, err := parseLookaside(index, data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(tree, "SOURCES"), 0o755); err != nil {
		return err
	}
	for _, f := range files {
		u := lookasideURL(d.lookaside, name, d.branch, f)
		if err := d.download(ctx, u, filepath.Join(tree, "SOURCES", f.Name), f.Sum); err != nil {
			return err
		}
	}
	return nil
}

// download streams u into path, at most DefaultMaxSize bytes, and checks
// its hash.
func (d *distGit) download(ctx context.Context, u, path string, sum Checksum) error {
	rc, err := d.c.open(ctx, u)
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	h, _ := digest.New(sum.Type)
	_, err = io.Copy(io.MultiWriter(out, h), &limitReader{r: rc, n: DefaultMaxSize})
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	switch {
	case errors.Is(err, ErrTooLarge):
		return badInput(u, ErrTooLarge, "more than %d bytes", DefaultMaxSize)
	case err != nil:
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != sum.Hex {
		return badInput(u, ErrChecksum, "%s %s, the lookaside index says %s", sum.Type, got, sum.Hex)
	}
	return nil
}

// distOf returns the dist tag of a release: ".el8_10" of "553.16.1.el8_10".
func distOf(release string) string {
	if i := strings.Index(release, ".el"); i >= 0 {
		return release[i:]
	}
	return ""
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// removeOnClose is a file whose folder is deleted when it is closed.
type removeOnClose struct {
	*os.File
	dir string
}

// Close closes the file and removes its folder.
func (r *removeOnClose) Close() error {
	err := r.File.Close()
	os.RemoveAll(r.dir)
	return err
}
