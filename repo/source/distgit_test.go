package source

import (
	"context"
	"crypto/sha1"
	"crypto/sha512"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// Every real lookaside index in ../shared/data/release-history parses and
// names the kernel tarball.
func TestParseRealLookasideIndexes(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(testutil.SharedData(t, "release-history", "kernel-metadata"), "*", "*.kernel.metadata"))
	more, _ := filepath.Glob(filepath.Join(testutil.SharedData(t, "release-history", "dist-git-sources-format"), "*.sources"))
	files = append(files, more...)
	if len(files) < 100 {
		t.Fatalf("only %d lookaside indexes", len(files))
	}
	for _, p := range files {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseLookaside(filepath.Base(p), data)
		if err != nil {
			t.Errorf("%s: %v", p, err)
			continue
		}
		if !slices.ContainsFunc(got, func(f lookasideFile) bool { return strings.HasPrefix(f.Name, "linux-") }) {
			t.Errorf("%s: no linux tarball in %v", p, got)
		}
	}
}

func TestParseLookasideRefuses(t *testing.T) {
	sha := strings.Repeat("a", 40)
	for _, tc := range []struct {
		line   string
		reason error
	}{
		{sha + " SOURCES/../../etc/passwd", ErrLocation},
		{sha + " SOURCES/sub/dir.tar", ErrLocation},
		{sha + " /etc/passwd", ErrLocation},
		{"SHA512 (../x) = " + strings.Repeat("b", 128), ErrLocation},
		{"abc SOURCES/x.tar", ErrMalformed},
		{"just-one-field", ErrMalformed},
		{"MD5 (x.tar) = " + strings.Repeat("c", 32), ErrMalformed},
	} {
		_, err := parseLookaside("sources", []byte("\n"+tc.line+"\n"))
		wantBadInput(t, err, tc.reason)
		if !strings.Contains(err.Error(), "sources:2") {
			t.Errorf("%q: error %v does not name the line", tc.line, err)
		}
	}
}

// distGitRepo makes a dist-git repository with two imports on c8 (one
// with a .kernel.metadata index, one with a sources index) and one on c9,
// and a lookaside server holding their tarballs by hash.
func distGitRepo(t testing.TB) (remote string, lookaside *httptest.Server, blobs map[string][]byte) {
	t.Helper()
	testutil.RequireTool(t, "git")
	remote = t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-c", "user.name=t", "-c", "user.email=t@kabiforge.invalid", "-c", "init.defaultBranch=c8"}, args...)...)
		cmd.Dir = remote
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(p, content string) {
		os.MkdirAll(filepath.Dir(filepath.Join(remote, p)), 0o755)
		if err := os.WriteFile(filepath.Join(remote, p), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	blobs = map[string][]byte{}
	git("init", "--quiet")
	for i, rel := range []struct{ version, release, branch string }{
		{"4.18.0", "80.el8", "c8"}, {"4.18.0", "147.el8_1", "c8"}, {"5.14.0", "70.el9", "c9"},
	} {
		tarball := fmt.Sprintf("linux-%s-%s.tar.xz", rel.version, rel.release)
		content := []byte("pretend tarball " + tarball)
		os.Remove(filepath.Join(remote, ".kernel.metadata"))
		os.Remove(filepath.Join(remote, "sources"))
		if i == 0 {
			sum := sha1.Sum(content)
			blobs[fmt.Sprintf("/sources/kernel/%s/%x", rel.branch, sum)] = content
			write(".kernel.metadata", fmt.Sprintf("%x SOURCES/%s\n", sum, tarball))
		} else {
			sum := sha512.Sum512(content)
			blobs[fmt.Sprintf("/sources/kernel/%s/%x", rel.branch, sum)] = content
			write("sources", fmt.Sprintf("SHA512 (%s) = %x\n", tarball, sum))
		}
		base, dist, _ := strings.Cut(rel.release, ".")
		write("SPECS/kernel.spec", fmt.Sprintf(`Name: kernel
Version: %s
Release: %s%%{?dist}
Summary: pretend kernel
License: GPLv2
Source0: linux-%%{version}-%%{release}.tar.xz

%%description
A pretend kernel for dist-git tests (dist .%s).

%%files
`, rel.version, base, dist))
		git("add", "-A")
		git("commit", "--quiet", "-m", "import "+rel.release)
		git("tag", fmt.Sprintf("imports/%s/kernel-%s-%s", rel.branch, rel.version, rel.release))
	}
	lookaside = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		b, ok := blobs[r.URL.Path]
		mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Write(b)
	}))
	t.Cleanup(lookaside.Close)
	return remote, lookaside, blobs
}

func TestDistGitListsAndBuilds(t *testing.T) {
	remote, lookaside, blobs := distGitRepo(t)
	cfg := config.Source{Name: "centos-git", Kind: config.SourceDistGit, URL: remote, Branch: "c8",
		Lookaside: lookaside.URL + "/sources", Unsigned: true}
	src := newSource(t, cfg, Options{})
	pkgs := list(t, src)
	var got []string
	for _, p := range pkgs {
		got = append(got, p.NEVRA.String()+" "+p.Location)
	}
	slices.Sort(got)
	want := []string{
		"kernel-4.18.0-147.el8_1.src imports/c8/kernel-4.18.0-147.el8_1",
		"kernel-4.18.0-80.el8.src imports/c8/kernel-4.18.0-80.el8",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	st := openStore(t)
	for _, p := range pkgs {
		f, err := Fetch(context.Background(), src, p, st, FetchOptions{Unsigned: true})
		if err != nil {
			t.Fatal(err)
		}
		if f.NEVRA.Release != p.NEVRA.Release || !strings.HasSuffix(f.Key, p.NEVRA.NVR()+".src.rpm") {
			t.Errorf("built %+v for %s", f, p.NEVRA)
		}
	}
	// A lookaside blob that does not match its hash is refused.
	for k := range blobs {
		blobs[k] = []byte("tampered")
	}
	st = openStore(t)
	_, err := Fetch(context.Background(), src, pkgs[0], st, FetchOptions{Unsigned: true})
	wantBadInput(t, err, ErrChecksum)
	if keys := storedKeys(t, st); len(keys) != 0 {
		t.Fatalf("stored %v", keys)
	}
	// Only import tags of the branch are opened.
	_, err = src.Open(context.Background(), Package{Location: "imports/c9/kernel-5.14.0-70.el9"})
	wantBadInput(t, err, ErrLocation)
}
