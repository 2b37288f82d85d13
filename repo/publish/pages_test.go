package publish

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/repodata"
)

// TestPagesCommitWithTheMetadata: the pages of each revision are named in
// that revision's repomd.xml and copied to the root; a publish that
// changes no package commits only when a page changed.
func TestPagesCommitWithTheMetadata(t *testing.T) {
	dir := t.TempDir()
	note := "first"
	pages := func(_ context.Context, s Snapshot) ([]Page, error) {
		var names []string
		for _, p := range s.Packages {
			names = append(names, p.Name)
		}
		body := fmt.Sprintf("revision %s: %s (%s)", s.Revision, strings.Join(names, ","), note)
		return []Page{{Type: "kabiforge-index", Name: "index.html", Data: []byte("<p>" + body + "</p>")},
			{Type: "kabiforge-status", Name: "status.json", Data: []byte(`{"page":"` + body + `"}`)}}, nil
	}
	p := newPublisher(t, dirStore(t, dir), Config{Pages: pages})
	res := mustPublish(t, p, ChangeSet{Add: testutil.RPMBuild(t, testutil.SimpleSpec("hello", "1.0", "1"))})
	check := func(wantRev, wantNote string) {
		t.Helper()
		md := readRepomd(t, dir)
		if md.Revision != wantRev {
			t.Errorf("repomd revision %s, want %s", md.Revision, wantRev)
		}
		for _, typ := range []string{"kabiforge-index", "kabiforge-status"} {
			d := md.Find(typ)
			if d == nil {
				t.Fatalf("repomd.xml names no %s", typ)
			}
			named, err := os.ReadFile(filepath.Join(dir, d.Location))
			if err != nil {
				t.Fatal(err)
			}
			if sha(named) != d.Checksum || !bytes.Contains(named, []byte("revision "+wantRev+": hello ("+wantNote+")")) {
				t.Errorf("%s at %s: %q (checksum %s, repomd says %s)", typ, d.Location, named, sha(named), d.Checksum)
			}
			root := map[string]string{"kabiforge-index": "index.html", "kabiforge-status": "status.json"}[typ]
			if copied, err := os.ReadFile(filepath.Join(dir, root)); err != nil || !bytes.Equal(copied, named) {
				t.Errorf("root %s differs from the committed page: %q %v", root, copied, err)
			}
		}
	}
	check(res.Revision, "first")
	if again := mustPublish(t, p, ChangeSet{}); again.Committed {
		t.Errorf("nothing changed, yet a commit: %+v", again)
	}
	note = "a drift report arrived"
	next := mustPublish(t, p, ChangeSet{})
	if !next.Committed || next.Packages != res.Packages {
		t.Fatalf("a changed page with the same packages: %+v, want a commit", next)
	}
	check(next.Revision, note)
}

func readRepomd(t *testing.T, dir string) *repodata.Repomd {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, RepomdKey))
	if err != nil {
		t.Fatal(err)
	}
	md, err := repodata.DecodeRepomd(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return md
}
