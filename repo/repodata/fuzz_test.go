package repodata

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// seedDocuments adds to f the uncompressed content of every real metadata
// file of the given kind (e.g. "primary.xml") under ../shared/data/rpm.
func seedDocuments(f *testing.F, kind string) {
	root := testutil.SharedData(f, "rpm")
	paths, _ := filepath.Glob(filepath.Join(root, "*", "*", "repodata", "*"+kind+"*"))
	n := 0
	for _, p := range paths {
		if filepath.Base(p) != kind && !bytes.Contains([]byte(filepath.Base(p)), []byte("-"+kind)) {
			continue
		}
		fh, err := os.Open(p)
		if err != nil {
			f.Fatal(err)
		}
		r, err := Decompress(fh)
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		b, err := io.ReadAll(r)
		fh.Close()
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		if len(b) > 64<<10 {
			b = b[:64<<10] // the 735 kB filelists: keep its head
		}
		f.Add(b)
		n++
	}
	if n == 0 {
		f.Fatalf("no %s seeds under %s", kind, root)
	}
}

func FuzzDecodeRepomd(f *testing.F) {
	seedDocuments(f, "repomd.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := DecodeRepomd(bytes.NewReader(b))
		if err != nil {
			return
		}
		// What decodes must survive an encode/decode round trip.
		var buf bytes.Buffer
		if err := m.Encode(&buf); err != nil {
			t.Fatal(err)
		}
		if _, err := DecodeRepomd(&buf); err != nil {
			t.Fatalf("re-encoded repomd does not decode: %v\n%s", err, buf.Bytes())
		}
	})
}

func FuzzDecodePrimary(f *testing.F) {
	seedDocuments(f, "primary.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		pkgs, err := DecodePrimary(bytes.NewReader(b))
		if err != nil {
			return
		}
		// What decodes must be written back as a document that decodes to
		// the same number of packages.
		var buf bytes.Buffer
		if err := documents[0].writeAll(newBufWriter(&buf), pkgs); err != nil {
			t.Fatal(err)
		}
		again, err := DecodePrimary(&buf)
		if err != nil || len(again) != len(pkgs) {
			t.Fatalf("re-written primary: %d packages, %v\n%s", len(again), err, buf.Bytes())
		}
	})
}

func FuzzDecodeFilelists(f *testing.F) {
	seedDocuments(f, "filelists.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeFilelists(bytes.NewReader(b))
	})
}

func FuzzDecodeOther(f *testing.F) {
	seedDocuments(f, "other.xml")
	f.Fuzz(func(t *testing.T, b []byte) {
		DecodeOther(bytes.NewReader(b))
	})
}

func FuzzDecompress(f *testing.F) {
	root := testutil.SharedData(f, "rpm")
	paths, _ := filepath.Glob(filepath.Join(root, "*", "*", "repodata", "*"))
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil && len(b) < 16<<10 {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := Decompress(bytes.NewReader(b))
		if err != nil {
			return
		}
		io.Copy(io.Discard, io.LimitReader(r, 1<<20))
		r.Close()
	})
}
