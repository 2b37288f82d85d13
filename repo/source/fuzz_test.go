package source

import (
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// FuzzParsePrimary feeds (compressed or plain) primary.xml documents to the
// listing of an rpm-md source, seeded from the real primary files of
// ../shared/data/rpm/librepo and ../shared/data/rpm/createrepo_c. Whatever
// it accepts has only safe locations and well-formed checksums; whatever it
// refuses is a *BadInputError.
func FuzzParsePrimary(f *testing.F) {
	for _, repo := range []string{"librepo", "createrepo_c"} {
		files, _ := filepath.Glob(filepath.Join(testutil.SharedData(f, "rpm", repo), "*", "repodata", "*-primary.xml.gz"))
		if len(files) == 0 {
			f.Fatalf("no primary.xml.gz under rpm/%s", repo)
		}
		for _, p := range files {
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Add(primaryXML("Packages/kernel-4.18.0-477.27.1.el8_8.src.rpm", ""))
	f.Add(primaryXML("../../etc/passwd", ""))
	f.Add(primaryXML("k.src.rpm", "https://evil.example/"))
	root, _ := url.Parse("https://cdn.example/content/dist/rhel8/")
	f.Fuzz(func(t *testing.T, data []byte) {
		pkgs, err := parsePrimary("primary.xml", strings.NewReader(string(data)), 1<<20, root, false)
		if err != nil {
			var bad *BadInputError
			if !errors.As(err, &bad) {
				t.Fatalf("error %v is %T, not *BadInputError", err, err)
			}
			return
		}
		for _, p := range pkgs {
			if err := checkLocation(p.Location); err != nil {
				t.Fatalf("accepted %+v: %v", p, err)
			}
			if err := checkChecksum(p.Checksum); err != nil {
				t.Fatalf("accepted %+v: %v", p, err)
			}
		}
	})
}

// FuzzParseIndex checks that no index page yields a location outside its
// folder, seeded with a real-looking Apache listing.
func FuzzParseIndex(f *testing.F) {
	f.Add([]byte(indexPage))
	f.Add([]byte(`<a href="../x-1-1.src.rpm">`))
	f.Add([]byte(`<a href="https://evil.example/x-1-1.src.rpm">`))
	base, _ := url.Parse("https://vault.example/8.0/BaseOS/Source/SPackages/")
	f.Fuzz(func(t *testing.T, page []byte) {
		pkgs, err := parseIndex(base, page)
		if err != nil {
			var bad *BadInputError
			if !errors.As(err, &bad) {
				t.Fatalf("error %v is %T, not *BadInputError", err, err)
			}
			return
		}
		for _, p := range pkgs {
			if err := checkLocation(p.Location); err != nil || !p.IsSource() {
				t.Fatalf("accepted %+v: %v", p, err)
			}
			u, err := url.Parse(base.String() + escapePath(p.Location))
			if err != nil || u.Host != base.Host || !strings.HasPrefix(u.Path, base.Path) || strings.Contains(u.Path, "/../") {
				t.Fatalf("location %q leads to %v", p.Location, u)
			}
		}
	})
}

// FuzzCheckLocation: an accepted location, joined to a base URL, stays
// below it.
func FuzzCheckLocation(f *testing.F) {
	for _, s := range []string{"Packages/k/kernel.src.rpm", "../../etc/passwd", "/etc/passwd", "https://evil/x", "a/./b", "a//b", "%2e%2e/x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://cdn.example/repo/")
	f.Fuzz(func(t *testing.T, loc string) {
		if checkLocation(loc) != nil {
			return
		}
		u, err := url.Parse(base.String() + escapePath(loc))
		if err != nil {
			t.Fatalf("%q: %v", loc, err)
		}
		if u.Host != base.Host || !strings.HasPrefix(u.Path, base.Path) {
			t.Fatalf("%q leads to %v", loc, u)
		}
		if r := base.ResolveReference(u); r.Path != u.Path {
			t.Fatalf("%q resolves to %s", loc, r.Path)
		}
		if c := filepath.Clean(loc); filepath.IsAbs(loc) || c == ".." || strings.HasPrefix(c, "../") {
			t.Fatalf("%q escapes a folder", loc)
		}
	})
}

// FuzzParseLookaside seeds from the real .kernel.metadata and sources
// files of ../shared/data/release-history. Every accepted entry names one
// safe file and a well-formed hash.
func FuzzParseLookaside(f *testing.F) {
	for _, pattern := range []string{"kernel-metadata/c8/*.kernel.metadata", "kernel-metadata/c7/*.kernel.metadata", "dist-git-sources-format/*.sources"} {
		files, _ := filepath.Glob(filepath.Join(testutil.SharedData(f, "release-history"), pattern))
		for i, p := range files {
			if i%10 != 0 {
				continue
			}
			data, err := os.ReadFile(p)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		files, err := parseLookaside("sources", data)
		if err != nil {
			var bad *BadInputError
			if !errors.As(err, &bad) {
				t.Fatalf("error %v is %T, not *BadInputError", err, err)
			}
			return
		}
		for _, lf := range files {
			if checkLocation(lf.Name) != nil || strings.Contains(lf.Name, "/") || checkChecksum(lf.Sum) != nil {
				t.Fatalf("accepted %+v", lf)
			}
		}
	})
}
