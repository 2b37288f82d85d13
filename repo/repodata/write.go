package repodata

import (
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
	"sync"
)

// metaWriter writes packages, given in order, into the three documents and
// the update cache, each in its own goroutine, while more packages are still
// being read.
type metaWriter struct {
	chans []chan *Package // one per document, then the cache's
	wg    sync.WaitGroup
	data  []Data
	errs  []error
	cache *cacheWriter
}

// newMetaWriter writes the documents in tmp and the cache in dir.
func newMetaWriter(dir, tmp string, count int, c Compression) *metaWriter {
	m := &metaWriter{data: make([]Data, len(documents)), errs: make([]error, len(documents)), cache: createCache(dir)}
	for i, doc := range documents {
		ch := make(chan *Package, 256)
		m.chans = append(m.chans, ch)
		m.wg.Go(func() {
			d, err := writeDocument(tmp, doc, count, c, ch)
			if err != nil {
				err = fmt.Errorf("write %s: %w", doc.kind, err)
			}
			m.data[i], m.errs[i] = d, err
		})
	}
	ch := make(chan *Package, 256)
	m.chans = append(m.chans, ch)
	m.wg.Go(func() { m.cache.encode(ch) })
	return m
}

// add writes p into every document.
func (m *metaWriter) add(p *Package) {
	for _, ch := range m.chans {
		ch <- p
	}
}

// close ends the documents and returns their repomd entries. Unless it
// fails, the caller must end the cache (m.cache.commit or abort).
func (m *metaWriter) close() ([]Data, error) {
	for _, ch := range m.chans {
		close(ch)
	}
	m.wg.Wait()
	if err := errors.Join(m.errs...); err != nil {
		m.cache.abort()
		return nil, err
	}
	return m.data, nil
}

// finishRepodata writes repomd.xml for the documents in tmp, signs it when
// asked, then swaps tmp in as dir/repodata.
func finishRepodata(dir, tmp string, data []Data, cache *cacheWriter, opts *Options) (*Repomd, error) {
	// The update cache is keyed by primary's checksum, so it may be ended
	// while repomd.xml is written: should the swap fail, it matches no
	// repomd.xml and is ignored.
	saved := make(chan struct{})
	go func() {
		defer close(saved)
		cache.commit(data[0].Checksum)
	}()
	defer func() { <-saved }()
	now := opts.Now().Unix()
	md := &Repomd{Revision: strconv.FormatInt(now, 10), Data: data}
	for i := range md.Data {
		md.Data[i].Timestamp = now
	}
	if err := writeRepomd(tmp, md, opts.Signer); err != nil {
		return nil, err
	}
	if err := swapIn(tmp, filepath.Join(dir, "repodata")); err != nil {
		return nil, err
	}
	return md, nil
}

// writeDocument writes one compressed document of count packages, read from
// pkgs until it is closed, and names it by its checksum. It drains pkgs even
// when it fails, so that the sender never blocks.
func writeDocument(tmp string, doc document, count int, c Compression, pkgs <-chan *Package) (Data, error) {
	defer func() {
		for range pkgs {
		}
	}()
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
	bw := newBufWriter(io.MultiWriter(zw, open))
	w := xmlWriter{bw}
	doc.begin(w, count)
	for p := range pkgs {
		doc.pkg(w, p)
	}
	w.WriteString(doc.end)
	if err := bw.Flush(); err != nil {
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
