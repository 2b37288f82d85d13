package repodata

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// document is one of the metadata files Index writes.
type document struct {
	kind  string
	write func(*bufio.Writer, []*Package) error
}

var documents = []document{
	{"primary", writePrimary},
	{"filelists", writeFilelists},
	{"other", writeOther},
}

// writeRepodata writes the metadata of pkgs into a temporary directory under
// dir, signs it when asked, then swaps it in as dir/repodata.
func writeRepodata(dir string, pkgs []*Package, opts *Options) (md *Repomd, err error) {
	tmp, err := os.MkdirTemp(dir, ".repodata-new-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.Chmod(tmp, 0o755); err != nil {
		return nil, err
	}
	now := opts.Now().Unix()
	md = &Repomd{Revision: strconv.FormatInt(now, 10), Data: make([]Data, len(documents))}
	errs := make([]error, len(documents))
	done := make(chan struct{})
	var cache []byte
	go func() {
		defer func() { done <- struct{}{} }()
		cache, _ = encodeCache(pkgs)
	}()
	for i, doc := range documents {
		go func() {
			defer func() { done <- struct{}{} }()
			d, err := writeDocument(tmp, doc, pkgs, opts.Compression)
			if err != nil {
				errs[i] = fmt.Errorf("write %s: %w", doc.kind, err)
				return
			}
			d.Timestamp = now
			md.Data[i] = d
		}()
	}
	for range len(documents) + 1 {
		<-done
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	if err := writeRepomd(tmp, md, opts.Signer); err != nil {
		return nil, err
	}
	if err := swapIn(tmp, filepath.Join(dir, "repodata")); err != nil {
		return nil, err
	}
	saveCache(dir, md.Data[0].Checksum, cache)
	return md, nil
}

// writeDocument writes one compressed document and names it by its checksum.
func writeDocument(tmp string, doc document, pkgs []*Package, c Compression) (Data, error) {
	f, err := os.CreateTemp(tmp, ".tmp-"+doc.kind+"-")
	if err != nil {
		return Data{}, err
	}
	defer f.Close()
	stored := &hashCounter{h: sha256.New()}
	zw, err := c.compressor(io.MultiWriter(f, stored))
	if err != nil {
		return Data{}, err
	}
	open := &hashCounter{h: sha256.New()}
	if err := doc.write(newBufWriter(io.MultiWriter(zw, open)), pkgs); err != nil {
		return Data{}, err
	}
	if err := zw.Close(); err != nil {
		return Data{}, err
	}
	if err := f.Chmod(0o644); err != nil {
		return Data{}, err
	}
	if err := f.Close(); err != nil {
		return Data{}, err
	}
	sum := hex.EncodeToString(stored.h.Sum(nil))
	name := sum + "-" + doc.kind + ".xml" + c.ext()
	if err := os.Rename(f.Name(), filepath.Join(tmp, name)); err != nil {
		return Data{}, err
	}
	return Data{
		Type:         doc.kind,
		ChecksumType: "sha256", Checksum: sum,
		OpenChecksumType: "sha256", OpenChecksum: hex.EncodeToString(open.h.Sum(nil)),
		Location: "repodata/" + name,
		Size:     stored.n, OpenSize: open.n,
	}, nil
}

type hashCounter struct {
	h hash.Hash
	n int64
}

func (c *hashCounter) Write(p []byte) (int, error) {
	c.h.Write(p)
	c.n += int64(len(p))
	return len(p), nil
}

// writeRepomd writes repomd.xml and, with a signer, then repomd.xml.asc.
func writeRepomd(tmp string, md *Repomd, signer Signer) error {
	path := filepath.Join(tmp, "repomd.xml")
	if err := writeFile(path, md.Encode); err != nil {
		return fmt.Errorf("write repomd.xml: %w", err)
	}
	if signer == nil {
		return nil
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	err = writeFile(path+".asc", func(w io.Writer) error { return signer.Detach(w, f) })
	if err != nil {
		return fmt.Errorf("sign repomd.xml: %w", err)
	}
	return nil
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	if err := write(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// swapIn replaces final with the directory tmp: the old one is renamed
// aside, the new one renamed into place, then the old one removed.
func swapIn(tmp, final string) error {
	aside := ""
	if _, err := os.Stat(final); err == nil {
		aside = tmp + "-old"
		if err := os.Rename(final, aside); err != nil {
			return err
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if err := os.Rename(tmp, final); err != nil {
		if aside != "" {
			os.Rename(aside, final)
		}
		return err
	}
	if aside != "" {
		return os.RemoveAll(aside)
	}
	return nil
}
