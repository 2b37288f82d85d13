package repodata

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// realRepos are rpm-md repositories written by other tools (librepo's test
// data, made by createrepo and createrepo_c) with their package counts.
var realRepos = []struct {
	elem     []string
	packages int
}{
	{[]string{"rpm", "librepo", "repo_yum_01"}, 2},
	{[]string{"rpm", "librepo", "repo_yum_02"}, 0},
	{[]string{"rpm", "librepo", "yum_mock_03"}, 1},
	{[]string{"rpm", "createrepo_c", "repo_01"}, 0},
	{[]string{"rpm", "createrepo_c", "repo_02"}, 0},
}

func TestReadRepoRealMetadata(t *testing.T) {
	for _, rr := range realRepos {
		t.Run(strings.Join(rr.elem, "/"), func(t *testing.T) {
			dir := testutil.SharedData(t, rr.elem...)
			repo, err := ReadRepo(dir)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%d packages", len(repo.Packages))
			for _, p := range repo.Packages {
				t.Logf("%s %s files=%d changelogs=%d req=%d", p.NEVRA(), p.Location, len(p.Files), len(p.Changelogs), len(p.Requires))
			}
		})
	}
}

func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
