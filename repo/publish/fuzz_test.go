package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/store"
)

// fuzzStore is a dir store in a fresh folder holding objects.
func fuzzStore(t *testing.T, objects map[string][]byte) store.Store {
	t.Helper()
	s, err := store.OpenDir(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range objects {
		if _, err := s.Put(context.Background(), k, bytes.NewReader(v)); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

// FuzzJournal feeds mutated publish journals to the journal decoder and then
// to what a publish does with one (mark the new generation current, collect
// recent signatures, expire old generations, encode it to write it back):
// no panic, the invariants of each step hold, and the journal written back
// reads again.
func FuzzJournal(f *testing.F) {
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	seed := Journal{
		Generations: []Generation{
			{Repomd: "aa", Revision: "1", Signature: []byte{1, 2}, Keys: []string{"repodata/a-primary.xml.gz", "Packages/a.rpm"}, Committed: now.Add(-3 * time.Hour), Replaced: now.Add(-2 * time.Hour)},
			{Repomd: "bb", Revision: "2", Keys: []string{"repodata/b-primary.xml.gz", "Packages/a.rpm"}, Committed: now.Add(-2 * time.Hour)},
		},
		Garbage: []string{"repodata/old-primary.xml.gz"},
	}
	b, _ := json.MarshalIndent(seed, "", " ")
	f.Add(b, int64(0), int64(3600))
	f.Add([]byte(`{"generations":[]}`), int64(10), int64(0))
	f.Add([]byte(`{"generations":[{"repomd":"cur","keys":["k"],"committed":"2026-01-01T00:00:00Z","replaced":"2026-01-02T00:00:00Z"}],"garbage":["k","k"]}`), int64(5), int64(60))
	f.Fuzz(func(t *testing.T, data []byte, offset, windowSec int64) {
		j, err := decodeJournal(data)
		if err != nil {
			return
		}
		at := now.Add(time.Duration(offset%(1<<20)) * time.Second)
		window := time.Duration(windowSec%(1<<20)) * time.Second
		cur := Generation{Repomd: "cur", Keys: []string{"repodata/cur-primary.xml.gz"}, Committed: at}
		j.markCurrent(cur, at)
		for _, g := range j.Generations {
			if g.Repomd != cur.Repomd && g.Replaced.IsZero() {
				t.Fatalf("generation %s not marked replaced beside the current one", g.Repomd)
			}
		}
		if g := j.find(cur.Repomd); g == nil || !g.Replaced.IsZero() {
			t.Fatalf("current generation missing or replaced: %+v", g)
		}
		sigs := j.recentSignatures(cur.Repomd, at, window, 3)
		if len(sigs) > 3 || slices.ContainsFunc(sigs, func(b []byte) bool { return b == nil }) {
			t.Fatalf("recent signatures: %d, some nil", len(sigs))
		}
		garbage := j.expire(at, window)
		if !slices.IsSorted(garbage) || len(slices.Compact(slices.Clone(garbage))) != len(garbage) {
			t.Fatalf("garbage not sorted and unique: %q", garbage)
		}
		for _, g := range j.Generations {
			if !g.Replaced.IsZero() && at.Sub(g.Replaced) >= window {
				t.Fatalf("generation %s kept though it expired", g.Repomd)
			}
			for _, k := range g.Keys {
				if slices.Contains(garbage, k) {
					t.Fatalf("key %s of live generation %s collected", k, g.Repomd)
				}
			}
		}
		// What updateJournal writes back must read again.
		b, err := json.MarshalIndent(j, "", " ")
		if err != nil {
			t.Fatalf("journal that read cannot be written back: %v", err)
		}
		if _, err := decodeJournal(b); err != nil {
			t.Fatalf("journal written back does not read: %v\n%s", err, b)
		}
	})
}

// stateKeys are where FuzzReadState stores the documents it fuzzes.
var stateKeys = map[string]string{
	"primary":   "repodata/primary.xml",
	"filelists": "repodata/filelists.xml",
	"other":     "repodata/other.xml",
}

// FuzzReadState feeds a mutated repomd.xml and primary, filelists and other
// documents (seeded from real repositories) to readState, the reader of
// the repository a publish starts from. With fix set the repomd.xml entries
// are made to name the documents with their true checksums, so that the
// documents' content, not only their checksums, is exercised. readState
// must return an error or a state whose files are in the repository, and
// write nothing outside its work folder.
func FuzzReadState(f *testing.F) {
	root := testutil.SharedData(f, "rpm")
	repomds, _ := filepath.Glob(filepath.Join(root, "*", "*", "repodata", "repomd.xml"))
	for _, p := range repomds {
		dir := filepath.Dir(filepath.Dir(p))
		md, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		docs := map[string][]byte{}
		for kind := range stateKeys {
			m, _ := filepath.Glob(filepath.Join(dir, "repodata", "*-"+kind+".xml*"))
			if len(m) == 0 {
				continue
			}
			docs[kind] = decompressed(f, m[0])
		}
		f.Add(md, docs["primary"], docs["filelists"], docs["other"], true)
		f.Add(md, docs["primary"], docs["filelists"], docs["other"], false)
	}
	f.Fuzz(func(t *testing.T, md, primary, filelists, other []byte, fix bool) {
		docs := map[string][]byte{"primary": primary, "filelists": filelists, "other": other}
		objects := map[string][]byte{}
		for kind, key := range stateKeys {
			objects[key] = docs[kind]
		}
		if fix {
			md = fixRepomd(md, docs)
		}
		objects[RepomdKey] = md
		s := fuzzStore(t, objects)
		base := t.TempDir()
		work := filepath.Join(base, "work")
		st, err := readState(context.Background(), s, work)
		if entries, _ := os.ReadDir(base); len(entries) > 1 {
			t.Fatalf("readState wrote beside its work folder: %v", entries)
		}
		if err != nil {
			return
		}
		for _, d := range st.md.Data {
			if err := store.ValidKey(d.Location); err != nil {
				t.Fatalf("state keeps %s document %q: %v", d.Type, d.Location, err)
			}
		}
		if g := st.generation(); g.Repomd != sum256(md) {
			t.Fatalf("generation %s, repomd.xml has %s", g.Repomd, sum256(md))
		}
	})
}

// fixRepomd makes md's primary, filelists and other entries name the
// documents FuzzReadState stores, with their checksums; md is returned
// unchanged when it does not decode.
func fixRepomd(md []byte, docs map[string][]byte) []byte {
	m, err := repodata.DecodeRepomd(bytes.NewReader(md))
	if err != nil {
		return md
	}
	for i := range m.Data {
		d := &m.Data[i]
		key, ok := stateKeys[d.Type]
		if !ok {
			continue
		}
		sum := sha256.Sum256(docs[d.Type])
		d.Location, d.ChecksumType, d.Checksum = key, "sha256", hex.EncodeToString(sum[:])
		d.OpenChecksumType, d.OpenChecksum = "", ""
		d.Size, d.OpenSize = int64(len(docs[d.Type])), -1
	}
	var buf bytes.Buffer
	if err := m.Encode(&buf); err != nil {
		return md
	}
	return buf.Bytes()
}

// decompressed is the content of a metadata file, its head when it is large.
func decompressed(f *testing.F, path string) []byte {
	fh, err := os.Open(path)
	if err != nil {
		f.Fatal(err)
	}
	defer fh.Close()
	r, err := repodata.Decompress(fh)
	if err != nil {
		f.Fatalf("%s: %v", path, err)
	}
	b, err := io.ReadAll(io.LimitReader(r, 64<<10))
	if err != nil {
		f.Fatalf("%s: %v", path, err)
	}
	return b
}
