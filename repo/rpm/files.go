package rpm

import (
	"errors"
	"fmt"
	"io"

	"github.com/kabiforge/kabiforge/internal/infile"
	rpmutils "github.com/sassoftware/go-rpmutils"
)

const (
	fileFlagGhost = 1 << 6
	modeTypeMask  = 0o170000
	modeDir       = 0o040000
	modeSymlink   = 0o120000
	modeRegular   = 0o100000
)

// File is one file a package installs.
type File struct {
	Path   string
	Mode   uint32
	Size   int64
	Digest string
	LinkTo string
	// Flags are rpm's file flags (config, doc, ghost, ...).
	Flags uint32
}

// IsDir reports whether the file is a directory.
func (f File) IsDir() bool { return f.Mode&modeTypeMask == modeDir }

// IsGhost reports whether the file is a %ghost: owned but not in the payload.
func (f File) IsGhost() bool { return f.Flags&fileFlagGhost != 0 }

// IsRegular reports whether the file is a regular file.
func (f File) IsRegular() bool { return f.Mode&modeTypeMask == modeRegular }

func (h *header) files() ([]File, error) {
	names, err := h.fileNames()
	if err != nil || len(names) == 0 {
		return nil, err
	}
	sizes := h.ints(tagFileSizes)
	if sizes.len() == 0 {
		sizes = h.ints(tagLongFileSizes)
	}
	modes := h.ints(tagFileModes)
	flags := h.ints(tagFileFlags)
	digests := h.strings(tagFileDigests)
	links := h.strings(tagFileLinkTos)
	files := make([]File, len(names))
	for i, name := range names {
		f := &files[i]
		f.Path = name
		if i < sizes.len() {
			f.Size = int64(sizes.at(i))
		}
		if i < modes.len() {
			f.Mode = uint32(modes.at(i))
		}
		if i < flags.len() {
			f.Flags = uint32(flags.at(i))
		}
		if i < len(digests) {
			f.Digest = digests[i]
		}
		if i < len(links) {
			f.LinkTo = links[i]
		}
	}
	return files, nil
}

// WalkPayload calls fn for each regular file in the package's payload, in
// payload order, with a reader of its contents. It stops at the first error fn
// returns. The package must have been read with Open.
func (p *Package) WalkPayload(fn func(f File, r io.Reader) error) error {
	if p.Path == "" {
		return errors.New("walk payload: package was not opened from a file")
	}
	fh, err := infile.Open(p.Path)
	if err != nil {
		return fmt.Errorf("walk payload: %w", err)
	}
	defer fh.Close()
	if err := p.walk(fh, fn); err != nil {
		return fmt.Errorf("walk payload of %s: %w", p.Path, err)
	}
	return nil
}

func (p *Package) walk(r io.Reader, fn func(f File, r io.Reader) error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("corrupt payload: %v", v)
		}
	}()
	pkg, err := rpmutils.ReadRpm(r)
	if err != nil {
		return err
	}
	pr, err := pkg.PayloadReaderExtended()
	if err != nil {
		return err
	}
	byPath := make(map[string]File, len(p.Files))
	for _, f := range p.Files {
		byPath[f.Path] = f
	}
	for {
		fi, err := pr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		f, ok := byPath[fi.Name()]
		if !ok || !f.IsRegular() || pr.IsLink() {
			continue
		}
		if err := fn(f, pr); err != nil {
			return err
		}
	}
}
