package repodata

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/kabiforge/kabiforge/internal/digest"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Signer makes a detached, ASCII-armored OpenPGP signature of r's content
// (repomd.xml.asc). *sign.Signer from repo/sign is one; repodata never sees
// key material.
type Signer interface {
	Detach(w io.Writer, r io.Reader) error
}

// Options tune Index. The zero value indexes every package with zstd.
type Options struct {
	// Compression of primary, filelists and other; "" means Zstd.
	Compression Compression
	// Update reuses the records of packages the existing metadata already
	// describes (same location, size and mtime, or same checksum) instead
	// of reading them again.
	Update bool
	// Signer, when set, signs repomd.xml into repomd.xml.asc.
	Signer Signer
	// Workers reading packages in parallel; 0 means GOMAXPROCS.
	Workers int
	// Open reads an RPM's headers. When nil, each file is read once into
	// memory and both parsed (rpm.Read) and checksummed from there.
	Open func(path string) (*rpm.Package, error)
	// Progress, when set, is called after each package with the number
	// done so far and the total, from one goroutine at a time.
	Progress func(done, total int)
	// Now gives the revision and timestamps; nil means time.Now.
	Now func() time.Time
}

// Result says what Index did.
type Result struct {
	// Packages is how many packages the metadata describes, Reused how many
	// of them were taken from the previous metadata without reading the RPM.
	Packages, Reused int
	Repomd           *Repomd
}

// Index writes rpm-md metadata for every *.rpm under dir (recursively,
// skipping repodata and hidden directories) into dir/repodata. The new
// metadata is built in a temporary directory and moved into place only when
// complete, so on error the previous repodata, if any, is left untouched.
func Index(ctx context.Context, dir string, opts Options) (res *Result, err error) {
	opts.fill()
	// The directory the new metadata is built in is made while the
	// packages are listed (the walk skips hidden directories).
	type scan struct {
		rels []string
		err  error
	}
	scanned := make(chan scan, 1)
	go func() {
		rels, err := scanRPMs(dir)
		scanned <- scan{rels, err}
	}()
	tmp, terr := makeTempRepodata(dir)
	s := <-scanned
	if err = errors.Join(s.err, terr); err != nil {
		if terr == nil {
			os.RemoveAll(tmp)
		}
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	var old map[string]*Package
	if opts.Update {
		if old, err = previous(dir); err != nil {
			return nil, fmt.Errorf("index %s: --update: %w (index without update to rebuild)", dir, err)
		}
	}
	md, reused, err := build(ctx, dir, tmp, s.rels, old, &opts)
	if err != nil {
		return nil, fmt.Errorf("index %s: %w", dir, err)
	}
	return &Result{Packages: len(s.rels), Reused: reused, Repomd: md}, nil
}

// makeTempRepodata makes the directory in dir where new metadata is built
// before it replaces dir/repodata.
func makeTempRepodata(dir string) (string, error) {
	tmp, err := os.MkdirTemp(dir, ".repodata-new-")
	if err != nil {
		return "", err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// build describes the packages and writes their metadata as they come, in
// tmp, which replaces dir/repodata on success.
func build(ctx context.Context, dir, tmp string, rels []string, old map[string]*Package, opts *Options) (*Repomd, int, error) {
	mw := newMetaWriter(dir, tmp, len(rels), opts.Compression)
	reused, err := describeAll(ctx, dir, rels, old, opts, mw.add)
	data, werr := mw.close()
	if err = errors.Join(err, werr); err != nil {
		if werr == nil {
			mw.cache.abort()
		}
		return nil, 0, err
	}
	md, err := finishRepodata(dir, tmp, data, mw.cache, opts)
	return md, reused, err
}

func (o *Options) fill() {
	if o.Compression == "" {
		o.Compression = Zstd
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// scanRPMs lists the *.rpm files under dir as sorted slash-separated paths.
func scanRPMs(dir string) ([]string, error) {
	var rels []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != dir && (strings.HasPrefix(d.Name(), ".") || d.Name() == "repodata") {
				return filepath.SkipDir
			}
			return nil
		}
		if strings.HasSuffix(d.Name(), ".rpm") && isRegular(path, d) {
			rel, err := filepath.Rel(dir, path)
			if err != nil {
				return err
			}
			rels = append(rels, filepath.ToSlash(rel))
		}
		return nil
	})
	sort.Strings(rels)
	return rels, err
}

// isRegular reports whether d is a regular file or a symlink to one (like
// createrepo_c, Index follows symlinks to packages).
func isRegular(path string, d fs.DirEntry) bool {
	if d.Type()&fs.ModeSymlink != 0 {
		fi, err := os.Stat(path)
		return err == nil && fi.Mode().IsRegular()
	}
	return d.Type().IsRegular()
}

// previous returns the records of dir's existing metadata by location (none
// is no error): from the cache when it matches repomd.xml, else from the XML.
func previous(dir string) (map[string]*Package, error) {
	f, err := os.Open(filepath.Join(dir, "repodata", "repomd.xml"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	md, err := DecodeRepomd(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	var pkgs []*Package
	if p := md.Find("primary"); p != nil {
		pkgs, _ = readCache(dir, p.Checksum)
	}
	if pkgs == nil {
		repo, err := ReadRepo(dir)
		if err != nil {
			return nil, err
		}
		pkgs = repo.Packages
	}
	m := make(map[string]*Package, len(pkgs))
	for _, p := range pkgs {
		m[p.Location] = p
	}
	return m, nil
}

// describeAll describes the packages in parallel and passes them to emit in
// rels' order. It returns how many were reused from old.
func describeAll(ctx context.Context, dir string, rels []string, old map[string]*Package, opts *Options, emit func(*Package)) (int, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type result struct {
		i      int
		pkg    *Package
		reused bool
		err    error
	}
	jobs := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for range min(opts.Workers, max(len(rels), 1)) {
		wg.Go(func() {
			var r pkgReader // reused for every file this worker reads
			for i := range jobs {
				p, reused, err := describe(dir, rels[i], old[rels[i]], opts, &r)
				results <- result{i, p, reused, err}
			}
		})
	}
	go func() {
		defer close(jobs)
		for i := range rels {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(results) }()
	var firstErr error
	done, reused, next := 0, 0, 0
	pending := make(map[int]*Package)
	for r := range results {
		switch {
		case r.err != nil && firstErr == nil:
			firstErr = r.err
			cancel()
		case r.err == nil:
			done++
			if r.reused {
				reused++
			}
			pending[r.i] = r.pkg
			for p, ok := pending[next]; ok && firstErr == nil; p, ok = pending[next] {
				delete(pending, next)
				emit(p)
				next++
			}
			if opts.Progress != nil && firstErr == nil {
				opts.Progress(done, len(rels))
			}
		}
	}
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return reused, firstErr
}

// describe returns the record of the package at rel, reusing prev when it
// still describes the file.
func describe(dir, rel string, prev *Package, opts *Options, r *pkgReader) (*Package, bool, error) {
	path := filepath.Join(dir, filepath.FromSlash(rel))
	// Records with another checksum type (old sha1 repositories) are read
	// again, so that every package ends up with a sha256 pkgid.
	if prev != nil && prev.ChecksumType == "sha256" {
		if p, err := reuse(path, prev); p != nil || err != nil {
			return p, p != nil, err
		}
	}
	rp, sum, mtime, err := r.read(path, opts.Open)
	if err != nil {
		return nil, false, err
	}
	return FromRPM(rp, rel, sum, mtime), false, nil
}

// reuse returns prev, with the file's mtime, if the file at path still has
// its size and its mtime or checksum; else nil.
func reuse(path string, prev *Package) (*Package, error) {
	fi, err := os.Stat(path)
	if err != nil || prev.PackageSize != fi.Size() {
		return nil, err
	}
	mtime := fi.ModTime().Unix()
	if prev.FileTime == mtime {
		return prev, nil
	}
	sum, _, err := digest.File(path)
	if err != nil || sum != prev.Checksum {
		return nil, err
	}
	p := *prev
	p.FileTime = mtime
	return &p, nil
}
