package source

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/sign"
)

func TestLocalDirListsSRPMsByHeader(t *testing.T) {
	dir := t.TempDir()
	s := sign.NewSigner(testKey(t, "upstream"))
	sub := filepath.Join(dir, "kmods")
	os.MkdirAll(sub, 0o755)
	os.MkdirAll(filepath.Join(dir, ".hidden"), 0o755)
	for _, p := range []string{buildSRPM(t, dir, "kernel", "4.18.0", "80"), buildSRPM(t, sub, "kmod-foo", "1.2", "3")} {
		if err := s.SignRPM(p); err != nil {
			t.Fatal(err)
		}
	}
	buildSRPM(t, filepath.Join(dir, ".hidden"), "ignored", "1", "1")
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a package"), 0o644)
	// Renamed files keep the NEVRA of their header.
	os.Rename(filepath.Join(sub, "kmod-foo-1.2-3.el8.src.rpm"), filepath.Join(sub, "renamed.src.rpm"))

	for _, u := range []string{dir, "file://" + dir} {
		src := newSource(t, config.Source{Name: "local", URL: u}, Options{})
		pkgs := list(t, src)
		var got []string
		for _, p := range pkgs {
			got = append(got, p.NEVRA.String()+" "+p.Location)
		}
		slices.Sort(got)
		want := []string{"kernel-4.18.0-80.el8.src kernel-4.18.0-80.el8.src.rpm", "kmod-foo-1.2-3.el8.src kmods/renamed.src.rpm"}
		if !slices.Equal(got, want) {
			t.Errorf("%s lists %v, want %v", u, got, want)
		}
		f, err := Fetch(context.Background(), src, find(t, pkgs, "kmod-foo"), openStore(t), FetchOptions{Keys: upstreamKeys(t)})
		if err != nil || f.NEVRA.Name != "kmod-foo" {
			t.Fatalf("fetch: %+v, %v", f, err)
		}
	}

	// A file named .src.rpm that is not a package is refused by name.
	os.WriteFile(filepath.Join(dir, "junk.src.rpm"), []byte("junk"), 0o644)
	_, err := newSource(t, config.Source{Name: "local", URL: dir}, Options{}).List(context.Background())
	wantBadInput(t, err, ErrMalformed)
}

// An escaping symlink inside a dir source is not followed.
func TestLocalDirSymlinkOutsideRefused(t *testing.T) {
	dir := t.TempDir()
	outside := buildSRPM(t, t.TempDir(), "secret", "1", "1")
	if err := os.Symlink(outside, filepath.Join(dir, "secret-1-1.el8.src.rpm")); err != nil {
		t.Fatal(err)
	}
	src := newSource(t, config.Source{Name: "local", URL: dir}, Options{})
	if pkgs := list(t, src); len(pkgs) != 0 {
		t.Errorf("listed %v through a symlink", pkgs)
	}
	p := Package{Location: "secret-1-1.el8.src.rpm", Size: -1}
	if _, err := src.Open(context.Background(), p); err == nil {
		t.Error("opened a file outside the source through a symlink")
	}
}

const indexPage = `<html><head><title>Index of /SRPMS</title></head><body><h1>Index of /SRPMS</h1><pre>
<a href="../">Parent Directory</a>
<a href="?C=N;O=D">Name</a>
<a href="kernel-4.18.0-80.el8.src.rpm">kernel-4.18.0-80.el8.src.rpm</a>   07-May-2019 14:00  100M
<a HREF='kmod-foo-1.2-3.el8.src.rpm'>kmod-foo</a>
<a href="kernel-4.18.0-80.el8.src.rpm">again</a>
<a href="kernel-4.18.0-80.el8.x86_64.rpm">binary</a>
<a href="sub/kernel-rt-4.18.0-80.rt9.el8.src.rpm">rt</a>
<a href="kernel%2Bx-1-1.el8.src.rpm">escaped</a>
</pre></body></html>`

func TestParseIndex(t *testing.T) {
	base, _ := url.Parse("https://vault.example/8.0/BaseOS/Source/SPackages/")
	pkgs, err := parseIndex(base, []byte(indexPage))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range pkgs {
		got = append(got, p.NEVRA.String()+" "+p.Location)
	}
	want := []string{
		"kernel-4.18.0-80.el8.src kernel-4.18.0-80.el8.src.rpm",
		"kmod-foo-1.2-3.el8.src kmod-foo-1.2-3.el8.src.rpm",
		"kernel-rt-4.18.0-80.rt9.el8.src sub/kernel-rt-4.18.0-80.rt9.el8.src.rpm",
		"kernel+x-1-1.el8.src kernel+x-1-1.el8.src.rpm",
	}
	if !slices.Equal(got, want) {
		t.Errorf("parsed %q\nwant %q", got, want)
	}
	for _, href := range []string{
		"https://evil.example/kernel-1-1.el8.src.rpm",
		"//evil.example/kernel-1-1.el8.src.rpm",
		"../kernel-1-1.el8.src.rpm",
		"/elsewhere/kernel-1-1.el8.src.rpm",
		"../../../../etc/kernel-1-1.el8.src.rpm",
	} {
		_, err := parseIndex(base, []byte(fmt.Sprintf(`<a href="%s">x</a>`, href)))
		wantBadInput(t, err, ErrLocation)
	}
}

func TestHTTPIndexSource(t *testing.T) {
	dir := t.TempDir()
	s := sign.NewSigner(testKey(t, "upstream"))
	if err := s.SignRPM(buildSRPM(t, dir, "kernel", "4.18.0", "80")); err != nil {
		t.Fatal(err)
	}
	rec := &recorder{h: http.StripPrefix("/SRPMS", http.FileServer(http.Dir(dir)))}
	srv := httptest.NewServer(rec)
	defer srv.Close()
	src := newSource(t, config.Source{Name: "vault", Kind: config.SourceDir, URL: srv.URL + "/SRPMS/"}, Options{})
	pkgs := list(t, src)
	if len(pkgs) != 1 || pkgs[0].NEVRA.String() != "kernel-4.18.0-80.el8.src" || pkgs[0].Size != -1 {
		t.Fatalf("listed %+v", pkgs)
	}
	if _, err := Fetch(context.Background(), src, pkgs[0], openStore(t), FetchOptions{Keys: upstreamKeys(t)}); err != nil {
		t.Fatal(err)
	}
	list(t, src)
	if n := rec.count("/SRPMS/", 304); n != 1 {
		t.Errorf("%d answers 304 to the index, want 1", n)
	}
}
