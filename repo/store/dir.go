package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"

	"github.com/kabiforge/kabiforge/internal/digest"
)

// Names the dir backend keeps for itself inside its root; keys whose
// segments start with internalPrefix are rejected and never listed.
const (
	internalPrefix = ".kabiforge-"
	lockName       = internalPrefix + "lock"
	tmpPattern     = internalPrefix + "tmp-*"
)

// Dir is a Store in a local folder. Each write goes to a temporary file in the
// destination folder, is fsynced and renamed into place, and the folder is
// fsynced. Conditional writes compare content sha256 under an flock on
// ROOT/.kabiforge-lock, so they are safe across processes sharing the folder.
type Dir struct {
	root string

	mu       sync.Mutex
	versions map[fileID]string // content sha256 of files already hashed
}

// maxCachedVersions bounds Dir's cache of content hashes.
const maxCachedVersions = 8192

// OpenDir returns the store rooted at the folder root, creating it if needed.
func OpenDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("open dir store: empty path")
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open dir store %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, fmt.Errorf("open dir store: %w", err)
	}
	return &Dir{root: abs, versions: map[fileID]string{}}, nil
}

// Root returns the store's absolute folder.
func (d *Dir) Root() string { return d.root }

// path maps a key to its file, rejecting invalid and internal keys.
func (d *Dir) path(key string) (string, error) {
	if err := ValidKey(key); err != nil {
		return "", err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if strings.HasPrefix(seg, internalPrefix) {
			return "", fmt.Errorf("%w %q: segment %q is reserved", ErrInvalidKey, key, seg)
		}
	}
	return filepath.Join(d.root, filepath.FromSlash(key)), nil
}

// Get implements Store. The reader is an *os.File, so it also seeks.
func (d *Dir) Get(ctx context.Context, key string) (io.ReadCloser, Info, error) {
	f, info, err := d.open(key)
	if err != nil {
		return nil, Info{}, fmt.Errorf("get %s: %w", key, err)
	}
	return f, info, nil
}

// Stat implements Store.
func (d *Dir) Stat(ctx context.Context, key string) (Info, error) {
	f, info, err := d.open(key)
	if err != nil {
		return Info{}, fmt.Errorf("stat %s: %w", key, err)
	}
	f.Close()
	return info, nil
}

func (d *Dir) open(key string) (*os.File, Info, error) {
	if _, err := d.path(key); err != nil {
		return nil, Info{}, err
	}
	f, err := d.openInRoot(key)
	if err != nil {
		return nil, Info{}, mapFSErr(err)
	}
	info, err := d.info(key, f)
	if err != nil {
		f.Close()
		return nil, Info{}, err
	}
	return f, info, nil
}

// openInRoot opens the file of a valid key for reading through an os.Root,
// so a symbolic link that leads out of the store's folder (to /etc/passwd,
// say) is never followed, and without blocking on a named pipe.
func (d *Dir) openInRoot(key string) (*os.File, error) {
	root, err := os.OpenRoot(d.root)
	if err != nil {
		return nil, err
	}
	defer root.Close()
	f, err := root.OpenFile(filepath.FromSlash(key), os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if strings.Contains(err.Error(), "path escapes from parent") {
			return nil, fmt.Errorf("%w: %s leads out of the store's folder", ErrNotExist, key)
		}
		return nil, err
	}
	return f, nil
}

// info describes an open file, hashing it (once per file) for its Version.
func (d *Dir) info(key string, f *os.File) (Info, error) {
	fi, err := f.Stat()
	if err != nil {
		return Info{}, err
	}
	if !fi.Mode().IsRegular() {
		return Info{}, fmt.Errorf("%w: not a regular file", ErrNotExist)
	}
	info := Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()}
	id, cacheable := idOf(fi)
	if cacheable {
		d.mu.Lock()
		info.Version = d.versions[id]
		d.mu.Unlock()
		if info.Version != "" {
			return info, nil
		}
	}
	h := sha256.New()
	if _, err := io.Copy(h, io.NewSectionReader(f, 0, fi.Size())); err != nil {
		return Info{}, err
	}
	info.Version = hex.EncodeToString(h.Sum(nil))
	if cacheable {
		d.remember(id, info.Version)
	}
	return info, nil
}

func (d *Dir) remember(id fileID, version string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.versions) >= maxCachedVersions {
		clear(d.versions)
	}
	d.versions[id] = version
}

// List implements Store. Its Infos carry no Version.
func (d *Dir) List(ctx context.Context, prefix string) iter.Seq2[Info, error] {
	if err := validPrefix(prefix); err != nil {
		return errSeq(fmt.Errorf("list %q: %w", prefix, err))
	}
	return func(yield func(Info, error) bool) {
		infos, err := d.collect(ctx, prefix)
		if err != nil {
			yield(Info{}, fmt.Errorf("list %q: %w", prefix, err))
			return
		}
		for _, info := range infos {
			if !yield(info, nil) {
				return
			}
		}
	}
}

// collect walks the deepest folder that holds every key with the prefix and
// returns the matching files sorted by key.
func (d *Dir) collect(ctx context.Context, prefix string) ([]Info, error) {
	start := d.root
	if i := strings.LastIndex(prefix, "/"); i >= 0 {
		start = filepath.Join(d.root, filepath.FromSlash(prefix[:i]))
	}
	var infos []Info
	err := filepath.WalkDir(start, func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if strings.HasPrefix(e.Name(), internalPrefix) {
			if e.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(d.root, p)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if e.IsDir() {
			if p != start && !strings.HasPrefix(key+"/", prefix) && !strings.HasPrefix(prefix, key+"/") {
				return filepath.SkipDir
			}
			return nil
		}
		if !e.Type().IsRegular() || !strings.HasPrefix(key, prefix) {
			return nil
		}
		fi, err := e.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil // deleted while listing
			}
			return err
		}
		infos = append(infos, Info{Key: key, Size: fi.Size(), ModTime: fi.ModTime()})
		return nil
	})
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Key, b.Key) })
	return infos, err
}

// Put implements Store.
func (d *Dir) Put(ctx context.Context, key string, r io.Reader) (Info, error) {
	return d.write(ctx, "put", key, r, func(tmp, dst string) error {
		return os.Rename(tmp, dst)
	})
}

// PutIfAbsent implements Store. It hard-links the new file into place, which
// fails atomically when the key exists.
func (d *Dir) PutIfAbsent(ctx context.Context, key string, r io.Reader) (Info, error) {
	return d.write(ctx, "put-if-absent", key, r, func(tmp, dst string) error {
		if err := os.Link(tmp, dst); err != nil {
			if errors.Is(err, fs.ErrExist) {
				return ErrConflict
			}
			return err
		}
		return os.Remove(tmp)
	})
}

// CompareAndSwap implements Store.
func (d *Dir) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (Info, error) {
	if version == "" {
		return d.PutIfAbsent(ctx, key, r)
	}
	return d.write(ctx, "compare-and-swap", key, r, func(tmp, dst string) error {
		cur, _, err := digest.File(dst)
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: object does not exist", ErrConflict)
		}
		if err != nil {
			return err
		}
		if cur != version {
			return fmt.Errorf("%w: version is %s, not %s", ErrConflict, cur, version)
		}
		return os.Rename(tmp, dst)
	})
}

// Delete implements Store.
func (d *Dir) Delete(ctx context.Context, key string) error {
	p, err := d.path(key)
	if err != nil {
		return fmt.Errorf("delete: %w", err)
	}
	err = d.locked(func() error {
		err := os.Remove(p)
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		return syncDir(filepath.Dir(p))
	})
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// write copies r to a synced temporary file next to the key's file, then runs
// commit (under the store lock) to move it into place.
func (d *Dir) write(ctx context.Context, op, key string, r io.Reader, commit func(tmp, dst string) error) (info Info, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("%s %s: %w", op, key, err)
		}
	}()
	dst, err := d.path(key)
	if err != nil {
		return Info{}, err
	}
	dir := filepath.Dir(dst)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Info{}, err
	}
	f, err := os.CreateTemp(dir, tmpPattern)
	if err != nil {
		return Info{}, err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(f, h), ctxReader{ctx, r})
	if err == nil {
		err = f.Chmod(0o644)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Info{}, err
	}
	fi, err := os.Stat(tmp)
	if err != nil {
		return Info{}, err
	}
	if err := d.locked(func() error {
		if err := commit(tmp, dst); err != nil {
			return err
		}
		return syncDir(dir)
	}); err != nil {
		return Info{}, err
	}
	version := sum(h)
	if id, ok := idOf(fi); ok {
		d.remember(id, version)
	}
	return Info{Key: key, Size: n, Version: version, ModTime: fi.ModTime()}, nil
}

// locked runs fn holding the exclusive flock on the store's lock file.
func (d *Dir) locked(fn func() error) error {
	f, err := os.OpenFile(filepath.Join(d.root, lockName), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("lock store: %w", err)
	}
	defer f.Close()
	if err := lockFile(f); err != nil {
		return fmt.Errorf("lock store: %w", err)
	}
	defer unlockFile(f)
	return fn()
}

func sum(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// mapFSErr turns "no such file" into ErrNotExist, keeping the path.
func mapFSErr(err error) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %v", ErrNotExist, err)
	}
	return err
}

// ctxReader stops a copy when its context ends.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
