package source

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"path"
	"regexp"
	"strings"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// rpmSuffix ends the files a folder, index or store source lists: source
// packages and binary ones (a reference kernel's kernel-core).
const rpmSuffix = ".rpm"

func newDir(cfg config.Source, opts Options) (Source, error) {
	if dir, ok := localPath(cfg.URL); ok {
		f, err := newFileFetcher(dir)
		if err != nil {
			return nil, err
		}
		return &localDir{f: f}, nil
	}
	c, err := newHTTPClient(cfg.TLS, opts)
	if err != nil {
		return nil, err
	}
	f, _, err := newFetcher(cfg.URL, c)
	if err != nil {
		return nil, err
	}
	return &httpIndex{f: f.(*httpFetcher), opts: opts}, nil
}

// localDir is a folder of *.rpm files (source packages, and binary ones of
// reference kernels), searched recursively (hidden folders skipped). Each
// package's NEVRA comes from its header.
type localDir struct {
	f *fileFetcher
}

// List reads the header of every *.rpm below the folder.
func (d *localDir) List(ctx context.Context) ([]Package, error) {
	var pkgs []Package
	err := fs.WalkDir(d.f.root.FS(), ".", func(p string, e fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if e.IsDir() && p != "." && strings.HasPrefix(e.Name(), ".") {
			return fs.SkipDir
		}
		if !e.Type().IsRegular() || !strings.HasSuffix(e.Name(), rpmSuffix) {
			return nil
		}
		pkg, err := d.read(p)
		if err != nil {
			return err
		}
		pkgs = append(pkgs, pkg)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", d.f.dir, err)
	}
	return pkgs, nil
}

func (d *localDir) read(loc string) (Package, error) {
	file, err := d.f.openFile(loc)
	if err != nil {
		return Package{}, err
	}
	defer file.Close()
	st, err := file.Stat()
	if err != nil {
		return Package{}, err
	}
	h, err := rpm.Read(file, st.Size())
	if err != nil {
		return Package{}, badInput(d.f.name(loc), ErrMalformed, "%v", err)
	}
	if named := strings.HasSuffix(loc, ".src.rpm"); named != h.IsSource() {
		what := map[bool]string{true: "named .src.rpm but a binary package", false: "a source package not named .src.rpm"}[named]
		return Package{}, badInput(d.f.name(loc), ErrMismatch, "%s", what)
	}
	return Package{NEVRA: h.NEVRA, Location: loc, Size: st.Size()}, nil
}

// Open opens the file inside the folder; os.Root keeps it there.
func (d *localDir) Open(ctx context.Context, pkg Package) (io.ReadCloser, error) {
	return d.f.open(ctx, pkg.Location)
}

// httpIndex is an HTTP index page (an Apache or nginx listing) linking
// *.src.rpm files. NEVRAs come from the file names.
type httpIndex struct {
	f    *httpFetcher
	opts Options
}

// hrefRE finds the targets of links in an HTML page.
var hrefRE = regexp.MustCompile(`(?i)<a\s[^>]*?href\s*=\s*["']([^"'<>]*)["']`)

// List reads the index page (a conditional request) and its links.
func (x *httpIndex) List(ctx context.Context) ([]Package, error) {
	page, err := x.f.c.readAll(ctx, x.f.base.String(), x.opts.maxMetadata(), true)
	if err != nil {
		return nil, err
	}
	return parseIndex(x.f.base, page)
}

// parseIndex reads the *.src.rpm links of an index page at base. Links to
// other hosts or outside base's folder are refused; other links ignored.
func parseIndex(base *url.URL, page []byte) ([]Package, error) {
	var pkgs []Package
	seen := map[string]bool{}
	for _, m := range hrefRE.FindAllSubmatch(page, -1) {
		href := strings.ReplaceAll(string(m[1]), "&amp;", "&")
		ref, err := url.Parse(href)
		if err != nil || !strings.HasSuffix(ref.Path, ".src.rpm") {
			continue
		}
		loc, err := relativeTo(base, ref)
		if err != nil {
			return nil, &BadInputError{Input: base.String(), Err: err}
		}
		if seen[loc] {
			continue
		}
		seen[loc] = true
		nevra, err := rpm.ParseNEVRA(strings.TrimSuffix(path.Base(loc), ".rpm"))
		if err != nil || nevra.Arch != "src" {
			return nil, badInput(base.String(), ErrMalformed, "link %q is not name-version-release.src.rpm", href)
		}
		pkgs = append(pkgs, Package{NEVRA: nevra, Location: loc, Size: -1})
	}
	return pkgs, nil
}

// relativeTo resolves ref against base and returns its location below base.
func relativeTo(base, ref *url.URL) (string, error) {
	abs := base.ResolveReference(ref)
	if abs.Scheme != base.Scheme || abs.Host != base.Host || abs.User != nil {
		return "", fmt.Errorf("%w: link %q leads to another host", ErrLocation, ref)
	}
	rel, ok := strings.CutPrefix(abs.Path, base.Path)
	if !ok {
		return "", fmt.Errorf("%w: link %q leads outside %s", ErrLocation, ref, base.Path)
	}
	if err := checkLocation(rel); err != nil {
		return "", err
	}
	return rel, nil
}

// Open streams the linked file, resuming after network failures.
func (x *httpIndex) Open(ctx context.Context, pkg Package) (io.ReadCloser, error) {
	return x.f.open(ctx, pkg.Location)
}
