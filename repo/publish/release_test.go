package publish

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/repodata"
)

// The <name>-release package follows the repository: published once, kept
// while its key and .repo file stay the same, and replaced by a higher
// release when the base URL (or key) changes.
func TestReleasePackageFollowsBaseURL(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	rpms := testutil.RPMBuild(t, testutil.SimpleSpec("hello", "1.0", "1"))
	if err := signer(t).SignRPM(rpms[0]); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	releases := func() []string {
		t.Helper()
		repo, err := repodata.ReadRepo(dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range repo.Packages {
			if p.Name == "test-release" {
				out = append(out, p.NEVRA())
			}
		}
		return out
	}
	publishAt := func(base string, cs ChangeSet) {
		t.Helper()
		mustPublish(t, newPublisher(t, dirStore(t, dir), Config{BaseURL: base, ReleasePackage: true}), cs)
	}

	publishAt("http://old.invalid/test/", ChangeSet{Add: rpms})
	if got := strings.Join(releases(), " "); got != "test-release-1-1.noarch" {
		t.Fatalf("after the first publish: %q", got)
	}
	publishAt("http://old.invalid/test/", ChangeSet{Remove: []string{"nothing-1-1.noarch"}})
	if got := strings.Join(releases(), " "); got != "test-release-1-1.noarch" {
		t.Fatalf("same base URL: %q, want the release package kept", got)
	}
	publishAt("http://new.invalid/test/", ChangeSet{Remove: []string{"nothing-1-1.noarch"}})
	if got := strings.Join(releases(), " "); got != "test-release-1-2.noarch" {
		t.Fatalf("new base URL: %q, want test-release-1-2 replacing 1-1", got)
	}
	if repo := releaseRepoFile(t, dir, "test-release-1-2.noarch.rpm"); !strings.Contains(repo, "baseurl=http://new.invalid/test/") {
		t.Errorf("the new release package's .repo:\n%s", repo)
	}
}

// Two builds of <name>-release from the same inputs, in other directories
// and in other seconds, are the same bytes, which rpmkeys accepts as
// signed by the repository's key: a publish retried after a crash uploads
// the file the interrupted attempt did.
func TestReleasePackageIsReproducible(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	s := signer(t)
	key, err := publicKey(s)
	if err != nil {
		t.Fatal(err)
	}
	files := releaseFiles{key: key, cert: []byte("a DER certificate"),
		repo: RepoFile("test", "https://repo.example/test/", InstalledKeyURL("test"), true)}
	build := func() []byte {
		t.Helper()
		path, err := buildReleaseRPM(context.Background(), t.TempDir(), "test", 3, files, s)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if out, err := testutil.RPMKeys(t, key)(path); err != nil {
			t.Errorf("rpmkeys --checksig %s: %v\n%s", path, err, out)
		}
		out, err := exec.Command("rpm", "-qp", "--qf", "%{BUILDTIME} %{BUILDHOST}", path).Output()
		if want := fmt.Sprintf("%d kabiforge", s.Key().Created().Unix()); err != nil || string(out) != want {
			t.Errorf("rpm -qp: build time and host %q (%v), want %q (the key's creation)", out, err, want)
		}
		return data
	}
	first := build()
	time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second))) // into the next second
	if second := build(); !bytes.Equal(first, second) {
		t.Errorf("two builds of the release package differ (%d and %d bytes)", len(first), len(second))
	}
}
