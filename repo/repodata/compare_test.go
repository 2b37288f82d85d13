package repodata

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// diffPackages lists every field in which a and b differ.
func diffPackages(a, b *Package) []string {
	var diffs []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	for i := range va.NumField() {
		fa, fb := va.Field(i).Interface(), vb.Field(i).Interface()
		if !reflect.DeepEqual(fa, fb) {
			diffs = append(diffs, fmt.Sprintf("%s:\n  ours   %+v\n  theirs %+v", va.Type().Field(i).Name, fa, fb))
		}
	}
	return diffs
}

// comparisonRepo builds a directory of real RPMs: two built here with
// rpmbuild, createrepo_c's own test packages (signed, source, Latin-1),
// go-rpmutils' (every payload compression, epochs) and CentOS-signed ones.
func comparisonRepo(t *testing.T) string {
	dir := t.TempDir()
	rpmbuild(t, dir, tpkgSpec)
	rpmbuild(t, dir, epochSpec)
	for sub, elem := range map[string][]string{
		"createrepo_c": {"rpm", "createrepo_c", "packages"},
		"go-rpmutils":  {"rpm", "go-rpmutils"},
		"centos":       {"rpm", "centos-signed"},
	} {
		pkgs, err := filepath.Glob(filepath.Join(testutil.SharedData(t, elem...), "*.rpm"))
		if err != nil || len(pkgs) == 0 {
			t.Fatalf("no test packages in %v: %v", elem, err)
		}
		if err := os.Mkdir(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		for _, p := range pkgs {
			copyFile(t, p, filepath.Join(dir, sub, filepath.Base(p)))
		}
	}
	return dir
}

func TestIndexMatchesCreaterepoC(t *testing.T) {
	dir := comparisonRepo(t)
	createrepo(t, dir)
	theirs, err := ReadRepo(dir)
	if err != nil {
		t.Fatalf("read createrepo_c's metadata: %v", err)
	}
	res, err := Index(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ours, err := ReadRepo(dir)
	if err != nil {
		t.Fatalf("read our metadata: %v", err)
	}
	if res.Packages != len(theirs.Packages) || len(ours.Packages) != len(theirs.Packages) {
		t.Fatalf("we describe %d (result %d) packages, createrepo_c %d", len(ours.Packages), res.Packages, len(theirs.Packages))
	}
	byLoc := make(map[string]*Package)
	for _, p := range theirs.Packages {
		byLoc[p.Location] = p
	}
	for _, p := range ours.Packages {
		q := byLoc[p.Location]
		if q == nil {
			t.Errorf("%s: createrepo_c does not list it", p.Location)
			continue
		}
		for _, d := range diffPackages(p, q) {
			t.Errorf("%s: %s", p.Location, d)
		}
	}
	tpkg := findPackage(t, ours.Packages, "tpkg")
	if len(tpkg.Changelogs) != ChangelogLimit || len(tpkg.Requires) == 0 || len(tpkg.Recommends) != 1 {
		t.Errorf("tpkg: %d changelogs, %d requires, %d recommends: the spec's content did not all arrive",
			len(tpkg.Changelogs), len(tpkg.Requires), len(tpkg.Recommends))
	}
}

func findPackage(t *testing.T, pkgs []*Package, name string) *Package {
	t.Helper()
	for _, p := range pkgs {
		if p.Name == name {
			return p
		}
	}
	t.Fatalf("no package %s", name)
	return nil
}

// dnfQueryFormat asks dnf for every package field it reads from primary and
// filelists.
const dnfQueryFormat = "%{name}|%{epoch}|%{version}|%{release}|%{arch}|%{requires}|%{provides}|%{conflicts}|" +
	"%{obsoletes}|%{recommends}|%{suggests}|%{supplements}|%{enhances}|%{files}|%{sourcerpm}|%{size}|" +
	"%{installsize}|%{buildtime}|%{license}|%{url}|%{packager}|%{summary}|%{description}"

// dnfQuery lists the packages of the repository at dir as dnf reads them.
func dnfQuery(t *testing.T, dir string) string {
	t.Helper()
	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "r", BaseURL: "file://" + dir})
	out, err := root.Run("repoquery", "--qf", dnfQueryFormat)
	if err != nil {
		t.Fatalf("dnf repoquery on %s: %v\n%s", dir, err, out)
	}
	return out
}

// dnf reads the same packages, dependencies, files and descriptions from our
// zstd metadata as from createrepo_c's gzip metadata of the same RPMs.
func TestDnfReadsWhatCreaterepoCWrites(t *testing.T) {
	ours := comparisonRepo(t)
	theirs := t.TempDir()
	err := filepath.WalkDir(ours, func(path string, d os.DirEntry, err error) error {
		if err != nil || path == ours {
			return err
		}
		rel, _ := filepath.Rel(ours, path)
		if d.IsDir() {
			return os.Mkdir(filepath.Join(theirs, rel), 0o755)
		}
		return os.Link(path, filepath.Join(theirs, rel))
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Index(context.Background(), ours, Options{}); err != nil {
		t.Fatal(err)
	}
	createrepo(t, theirs)
	got, want := dnfQuery(t, ours), dnfQuery(t, theirs)
	if !strings.Contains(got, "tpkg|0|1.2|3.el8|x86_64|") || strings.Count(got, "\n") < 50 {
		t.Fatalf("dnf read too little from our metadata:\n%s", got)
	}
	if got != want {
		t.Errorf("dnf reads our metadata differently:\nours:\n%s\ncreaterepo_c:\n%s", got, want)
	}
}
