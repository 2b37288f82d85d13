package publish

import (
	"context"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/store"
)

// A first publish makes a repository dnf installs from with gpgcheck and
// repo_gpgcheck on, with the key, the .repo file and the release package
// alongside; the release package installs both.
func TestPublishInstallsWithDNF(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	rpms := testutil.RPMBuild(t, testutil.SimpleSpec("hello", "1.0", "1"))
	dir := t.TempDir()
	p := newPublisher(t, dirStore(t, dir), Config{BaseURL: "file://" + dir, SignPackages: true, ReleasePackage: true})
	res := mustPublish(t, p, ChangeSet{Add: rpms})
	if !res.Committed || res.Packages != 2 || res.Uploaded != 2 {
		t.Fatalf("result %+v, want a commit of 2 uploaded packages (hello and test-release)", res)
	}
	for _, f := range []string{"RPM-GPG-KEY-test", "test.repo", RepomdKey, RepomdAscKey, JournalKey} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("missing %s: %v", f, err)
		}
	}
	repo, _ := os.ReadFile(filepath.Join(dir, "test.repo"))
	for _, want := range []string{"baseurl=file://" + dir + "/", "gpgcheck=1", "repo_gpgcheck=1", "gpgkey=file://" + dir + "/RPM-GPG-KEY-test"} {
		if !strings.Contains(string(repo), want) {
			t.Errorf("test.repo lacks %q:\n%s", want, repo)
		}
	}
	// The release package installs the key under /etc/pki and a .repo file
	// pointing at it, as elrepo-release does.
	if got := releaseRepoFile(t, dir, "test-release-1-1.noarch.rpm"); !strings.Contains(got, "gpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-test") ||
		!strings.Contains(got, "repo_gpgcheck=1") {
		t.Errorf("test-release's test.repo:\n%s", got)
	}
	installed := dnfInstall(t, dir, "hello", "test-release")
	if !slices.Contains(installed, "hello-1.0-1.el8.noarch") || !slices.Contains(installed, "test-release-1-1.noarch") {
		t.Fatalf("installed %v", installed)
	}

	again := mustPublish(t, p, ChangeSet{Add: rpms})
	if again.Committed || again.Uploaded != 0 {
		t.Errorf("publishing the same packages again committed a new revision: %+v", again)
	}
}

// Removing a NEVRA drops it from the metadata; its file stays until the
// window has passed.
func TestRemoveAndCleanup(t *testing.T) {
	a := testutil.RPMBuild(t, testutil.SimpleSpec("a", "1", "1"))
	b := testutil.RPMBuild(t, testutil.SimpleSpec("b", "1", "1"))
	dir := t.TempDir()
	s := dirStore(t, dir)
	clk := newClock()
	p := newPublisher(t, s, Config{Now: clk.Now})
	mustPublish(t, p, ChangeSet{Add: append(a, b...)})
	res := mustPublish(t, p, ChangeSet{Remove: []string{"a-1-1.el8.noarch"}})
	if !slices.Equal(res.Dropped, []string{"a-1-1.el8.noarch"}) {
		t.Fatalf("dropped %v", res.Dropped)
	}
	got, err := fetch(storeGetter(s), signer(t).Key().Keyring(), true)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.packages, []string{"b-1-1.el8.noarch"}) {
		t.Fatalf("packages %v", got.packages)
	}
	aKey := packageKeys(t, s, "a-1-1")
	if len(aKey) != 1 {
		t.Fatalf("a's file should stay within the window, found %v", aKey)
	}
	clk.Advance(2 * p.cfg.Window)
	n, err := p.Cleanup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 || len(packageKeys(t, s, "a-1-1")) != 0 || len(packageKeys(t, s, "b-1-1")) != 1 {
		t.Fatalf("cleanup deleted %d; a: %v, b: %v", n, packageKeys(t, s, "a-1-1"), packageKeys(t, s, "b-1-1"))
	}
	if _, err := fetch(storeGetter(s), signer(t).Key().Keyring(), true); err != nil {
		t.Fatalf("after cleanup: %v", err)
	}
}

// packageKeys lists the package files whose name contains substr.
func packageKeys(t *testing.T, s store.Store, substr string) []string {
	t.Helper()
	var keys []string
	for info, err := range s.List(context.Background(), "Packages/") {
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(info.Key, substr) {
			keys = append(keys, info.Key)
		}
	}
	return keys
}

// A repository indexed in place (repo index, createrepo_c) is adopted: its
// packages stay where they are, new ones are added, and a removed one is
// deleted from its original location once the window has passed.
func TestAdoptIndexedRepository(t *testing.T) {
	dir := t.TempDir()
	a := testutil.RPMBuild(t, testutil.SimpleSpec("old", "1", "1"))
	b := testutil.RPMBuild(t, testutil.SimpleSpec("new", "1", "1"))
	copyDir(t, filepath.Dir(a[0]), filepath.Join(dir, "Packages"))
	if _, err := repodata.Index(context.Background(), dir, repodata.Options{Signer: signer(t)}); err != nil {
		t.Fatal(err)
	}
	s := dirStore(t, dir)
	clk := newClock()
	p := newPublisher(t, s, Config{Now: clk.Now})
	mustPublish(t, p, ChangeSet{Add: b})
	got, err := fetch(storeGetter(s), signer(t).Key().Keyring(), true)
	if err != nil || !slices.Equal(got.packages, []string{"new-1-1.el8.noarch", "old-1-1.el8.noarch"}) {
		t.Fatalf("after adding: %v %v", got, err)
	}
	mustPublish(t, p, ChangeSet{Remove: []string{"old-1-1.el8.noarch"}})
	clk.Advance(2 * p.cfg.Window)
	if _, err := p.Cleanup(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "Packages", filepath.Base(a[0]))); !os.IsNotExist(err) {
		t.Errorf("the removed package's original file: %v, want it deleted", err)
	}
	if _, err := fetch(storeGetter(s), signer(t).Key().Keyring(), true); err != nil {
		t.Fatal(err)
	}
}

// releaseRepoFile returns the .repo file inside a published test-release RPM.
func releaseRepoFile(t *testing.T, dir, file string) string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Name() == file {
			found = append(found, path)
		}
		return nil
	})
	if len(found) != 1 {
		t.Fatalf("want one %s under %s, found %v", file, dir, found)
	}
	p, err := rpm.Open(found[0])
	if err != nil {
		t.Fatal(err)
	}
	var repo string
	err = p.WalkPayload(func(f rpm.File, r io.Reader) error {
		if f.Path == "/etc/yum.repos.d/test.repo" {
			b, err := io.ReadAll(r)
			repo = string(b)
			return err
		}
		return nil
	})
	if err != nil || repo == "" {
		t.Fatalf("read /etc/yum.repos.d/test.repo from %s: %v", found[0], err)
	}
	return repo
}
