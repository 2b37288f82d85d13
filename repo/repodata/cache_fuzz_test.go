package repodata

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// fuzzPrimarySum is the primary checksum the update-cache seeds are keyed by.
const fuzzPrimarySum = "0123456789abcdef"

// FuzzDecodeCache feeds mutated update caches (built from the records of
// every real primary.xml) to the decoder Index trusts when the checksum
// line matches: what decodes must be written back as primary, filelists and
// other documents that decode to as many packages, since Index writes
// cached records into the new metadata as they are.
func FuzzDecodeCache(f *testing.F) {
	root := testutil.SharedData(f, "rpm")
	paths, _ := filepath.Glob(filepath.Join(root, "*", "*", "repodata", "*-primary.xml*"))
	for _, p := range paths {
		fh, err := os.Open(p)
		if err != nil {
			f.Fatal(err)
		}
		r, err := Decompress(fh)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		pkgs, err := DecodePrimary(r)
		fh.Close()
		if err != nil {
			continue // sqlite or otherwise not an XML primary
		}
		ch := make(chan *Package, len(pkgs))
		for _, p := range pkgs {
			ch <- p
		}
		close(ch)
		records := bytes.NewBufferString(fuzzPrimarySum + "\n")
		w := bufio.NewWriter(records)
		encodeCache(w, ch)
		if err := w.Flush(); err != nil {
			f.Fatal(err)
		}
		f.Add(records.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, ok := decodeCache(data, fuzzPrimarySum)
		if !ok {
			return
		}
		for _, doc := range documents {
			var buf bytes.Buffer
			if err := doc.writeAll(newBufWriter(&buf), pkgs); err != nil {
				t.Fatal(err)
			}
			n, err := decodeCount(doc.kind, &buf)
			if err != nil || n != len(pkgs) {
				t.Fatalf("%s written from %d cached records: %d packages, %v\n%s", doc.kind, len(pkgs), n, err, buf.Bytes())
			}
		}
	})
}

// decodeCount decodes a document of the given kind and counts its packages.
func decodeCount(kind string, r io.Reader) (int, error) {
	switch kind {
	case "primary":
		p, err := DecodePrimary(r)
		return len(p), err
	case "filelists":
		p, err := DecodeFilelists(r)
		return len(p), err
	}
	p, err := DecodeOther(r)
	return len(p), err
}
