package kernelfamily

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"
)

// Fetcher downloads the family's packages and extracts them into trees.
// The zero value is not usable; make one with NewFetcher.
type Fetcher struct {
	// Dir is the cache directory: packages go to Dir/debs, trees to
	// Dir/kernels.
	Dir string
	// Progress, when set, is called with one line per slow step (download,
	// extract), so a user sees what is happening.
	Progress func(line string)
}

// NewFetcher returns a Fetcher that caches under dir, or under
// DefaultCacheDir when dir is "".
func NewFetcher(dir string) (*Fetcher, error) {
	if dir == "" {
		d, err := DefaultCacheDir()
		if err != nil {
			return nil, err
		}
		dir = d
	}
	return &Fetcher{Dir: dir}, nil
}

func (f *Fetcher) progress(format string, args ...any) {
	if f.Progress != nil {
		f.Progress(fmt.Sprintf(format, args...))
	}
}

// Tree returns abi's extracted tree, downloading and extracting its packages
// first when they are not cached yet.
func (f *Fetcher) Tree(ctx context.Context, abi string) (*Tree, error) {
	debs, err := f.Debs(ctx, abi)
	if err != nil {
		return nil, err
	}
	sum := sha256.New()
	for _, d := range debs {
		fmt.Fprintln(sum, filepath.Base(d))
	}
	t := &Tree{ABI: abi, Release: Release(abi), Version: debVersion(debs[0]), Debs: debs,
		Root: filepath.Join(f.Dir, "kernels", abi+"-"+hex.EncodeToString(sum.Sum(nil))[:12])}
	if _, err := os.Stat(t.Root); err == nil {
		return t, nil
	}
	unlock, err := lock(ctx, filepath.Join(f.Dir, "kernels", "."+abi+".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	if _, err := os.Stat(t.Root); err == nil {
		return t, nil // another process extracted it while we waited
	}
	f.progress("extracting kernel %s (%d packages)", abi, len(debs))
	if err := extract(ctx, t); err != nil {
		return nil, fmt.Errorf("kernel %s: %w", abi, err)
	}
	return t, nil
}

// Debs returns the paths of abi's packages (in the order of Packages),
// downloading with apt-get those that are not cached yet.
func (f *Fetcher) Debs(ctx context.Context, abi string) ([]string, error) {
	if err := ValidABI(abi); err != nil {
		return nil, err
	}
	dir := filepath.Join(f.Dir, "debs")
	if debs, missing := cached(dir, Packages(abi)); len(missing) == 0 {
		return debs, nil
	}
	unlock, err := lock(ctx, filepath.Join(dir, "."+abi+".lock"))
	if err != nil {
		return nil, err
	}
	defer unlock()
	_, missing := cached(dir, Packages(abi))
	if len(missing) > 0 {
		f.progress("downloading %s with apt-get", strings.Join(missing, " "))
		if err := download(ctx, dir, missing); err != nil {
			return nil, fmt.Errorf("kernel %s: %w", abi, err)
		}
	}
	debs, missing := cached(dir, Packages(abi))
	if len(missing) > 0 {
		return nil, fmt.Errorf("kernel %s: apt-get download left no package file for %s in %s",
			abi, strings.Join(missing, ", "), dir)
	}
	return debs, nil
}

// cached returns the cached file of each package that has one and the names
// of those that have none. When several versions of a package are cached
// (kbuild is shared by every ABI and only its newest build stays in the
// archive), the newest file is used.
func cached(dir string, pkgs []string) (debs, missing []string) {
	for _, p := range pkgs {
		m, _ := filepath.Glob(filepath.Join(dir, p+"_*_*.deb"))
		if len(m) == 0 {
			missing = append(missing, p)
			continue
		}
		sort.Slice(m, func(i, j int) bool { return modTime(m[i]).Before(modTime(m[j])) })
		debs = append(debs, m[len(m)-1])
	}
	return debs, missing
}

func modTime(path string) time.Time {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return fi.ModTime()
}

// download runs apt-get download for pkgs in a private directory under dir
// and moves each package file into dir by rename, so a reader never sees a
// partial file.
func download(ctx context.Context, dir string, pkgs []string) error {
	tmp, err := os.MkdirTemp(dir, ".download-")
	if err != nil {
		return fmt.Errorf("package cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	if err := command(ctx, tmp, append([]string{"apt-get", "download", "-q"}, pkgs...)...); err != nil {
		return err
	}
	files, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	for _, file := range files {
		if err := os.Rename(file, filepath.Join(dir, filepath.Base(file))); err != nil {
			return fmt.Errorf("package cache: %w", err)
		}
	}
	return nil
}

// extract unpacks t.Debs into a private directory, makes the headers usable
// where they are, and renames the directory to t.Root.
func extract(ctx context.Context, t *Tree) error {
	tmp, err := os.MkdirTemp(filepath.Dir(t.Root), ".extract-")
	if err != nil {
		return fmt.Errorf("tree cache: %w", err)
	}
	defer os.RemoveAll(tmp)
	for _, deb := range t.Debs {
		if err := command(ctx, "", "dpkg-deb", "-x", deb, tmp); err != nil {
			return err
		}
	}
	if err := relocate(tmp, t); err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, t.Root); err != nil {
		return fmt.Errorf("tree cache: %w", err)
	}
	return nil
}

// relocate fixes what assumes the packages are installed at /: the flavour
// Makefile's absolute include of the common headers (rewritten to where the
// tree will live) and the modules directory's build and source links (made
// relative).
func relocate(tmp string, t *Tree) error {
	final := *t
	final.Root = tmp
	mk := filepath.Join(final.Headers(), "Makefile")
	data, err := os.ReadFile(mk)
	if err != nil {
		return fmt.Errorf("headers of %s: %w", t.Release, err)
	}
	abs := []byte("include /usr/src/")
	if !bytes.Contains(data, abs) {
		return fmt.Errorf("headers Makefile %s: no %q line to rewrite", mk, abs)
	}
	data = bytes.ReplaceAll(data, abs, []byte("include "+filepath.Join(t.Root, "usr", "src")+"/"))
	if err := os.WriteFile(mk, data, 0o644); err != nil {
		return err
	}
	links := map[string]string{
		"build":  "../../../usr/src/linux-headers-" + t.Release,
		"source": "../../../usr/src/linux-headers-" + t.ABI + "-common",
	}
	for name, target := range links {
		link := filepath.Join(final.ModulesDir(), name)
		if err := os.Remove(link); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if err := os.Symlink(target, link); err != nil {
			return err
		}
	}
	return nil
}

// lock takes an exclusive lock on path (created if needed) and returns its
// release. It gives up when ctx is done.
func lock(ctx context.Context, path string) (func(), error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("cache lock: %w", err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("cache lock: %w", err)
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("cache lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("waiting for cache lock %s: %w", path, context.Cause(ctx))
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// command runs argv in dir in its own process group (killed whole when ctx
// is done) and returns an error carrying the end of its output when it
// fails.
func command(ctx context.Context, dir string, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		if ctxErr := context.Cause(ctx); ctxErr != nil {
			return fmt.Errorf("%s: %w", argv[0], ctxErr)
		}
		return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, tail(out.String(), 20))
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
