package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// indexFixture copies createrepo_c's 12 test packages into a directory.
func indexFixture(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pkgs, _ := filepath.Glob(filepath.Join(testutil.SharedData(t, "rpm", "createrepo_c", "packages"), "*.rpm"))
	if len(pkgs) != 12 {
		t.Fatalf("want the 12 createrepo_c test packages, found %d", len(pkgs))
	}
	for _, p := range pkgs {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestRepoIndexSummaryAndUpdate(t *testing.T) {
	dir := indexFixture(t)
	out, err := runInProcess(t, "repo", "index", dir)
	if err != nil {
		t.Fatalf("repo index: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`^indexed 12 packages \(0 reused\) in \d+(\.\d+)?m?s\n$`).MatchString(out) {
		t.Errorf("summary %q", out)
	}
	out, err = runInProcess(t, "repo", "index", "--update", "--compress", "gzip", dir)
	if err != nil || !strings.HasPrefix(out, "indexed 12 packages (12 reused)") {
		t.Fatalf("repo index --update: %v\n%s", err, out)
	}
	repo, err := repodata.ReadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if loc := repo.Repomd.Find("primary").Location; !strings.HasSuffix(loc, ".xml.gz") || len(repo.Packages) != 12 {
		t.Errorf("after --compress gzip: primary %s, %d packages", loc, len(repo.Packages))
	}
}

func TestRepoIndexSignsRepomd(t *testing.T) {
	dir := indexFixture(t)
	key, err := sign.Generate("Index Test", "index@kabiforge.invalid", sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	files, err := key.WriteFiles(t.TempDir(), "index", nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := runInProcess(t, "repo", "index", "--sign-key", files.Private, dir)
	if err != nil || !strings.Contains(out, "signed") {
		t.Fatalf("repo index --sign-key: %v\n%s", err, out)
	}
	md := filepath.Join(dir, "repodata", "repomd.xml")
	if _, err := key.Keyring().VerifyFile(md, md+".asc"); err != nil {
		t.Errorf("repomd.xml.asc: %v", err)
	}
}

func TestRepoIndexBadInput(t *testing.T) {
	dir := indexFixture(t)
	if err := os.WriteFile(filepath.Join(dir, "zz-broken.rpm"), []byte(strings.Repeat("not an rpm ", 20)), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		args []string
		want string
	}{
		"broken rpm":      {[]string{dir}, "zz-broken.rpm"},
		"no such dir":     {[]string{filepath.Join(dir, "nope")}, "not a directory"},
		"bad compression": {[]string{"--compress", "lzma", dir}, `unknown compression "lzma"`},
		"missing key":     {[]string{"--sign-key", filepath.Join(dir, "nokey.asc"), dir}, "nokey.asc"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			out, err := runInProcess(t, append([]string{"repo", "index"}, c.args...)...)
			if exitCode(err) != 2 || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("exit %d, error %v, want exit 2 naming %q\n%s", exitCode(err), err, c.want, out)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "repodata")); !os.IsNotExist(err) {
		t.Errorf("repodata written despite bad input (stat: %v)", err)
	}
}
