package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// `repo publish` makes a repository dnf installs from, with the release
// package installing the key and .repo file; --remove drops a package.
func TestRepoPublish(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	keys := t.TempDir()
	kabiforge(t, "key", "generate", "--name", "pubtest", "--email", "t@kabiforge.invalid", "--algorithm", "ed25519", "--out", keys)
	priv := filepath.Join(keys, "pubtest.private.asc")
	a := testutil.RPMBuild(t, testutil.SimpleSpec("pub-a", "1.0", "1"))
	b := testutil.RPMBuild(t, testutil.SimpleSpec("pub-b", "1.0", "1"))
	repo := t.TempDir()
	out := kabiforge(t, append([]string{"repo", "publish", "--to", "dir://" + repo, "--key", priv, "--name", "pubtest"}, append(a, b...)...)...)
	if !strings.Contains(out, "published revision") || !strings.Contains(out, "3 packages (3 uploaded") {
		t.Fatalf("output: %s", out)
	}
	out = kabiforge(t, "repo", "publish", "--to", "dir://"+repo, "--key", priv, "--name", "pubtest", "--remove", "pub-b-1.0-1.el8.noarch")
	if !strings.Contains(out, "2 packages") || !strings.Contains(out, "1 dropped") {
		t.Fatalf("output: %s", out)
	}
	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "pubtest", BaseURL: "file://" + repo, GPGKey: "file://" + filepath.Join(repo, "RPM-GPG-KEY-pubtest")})
	if out, err := root.Install("pub-a", "pubtest-release"); err != nil {
		t.Fatalf("dnf install: %v\n%s", err, out)
	}
	if out, err := root.Install("pub-b"); err == nil {
		t.Fatalf("pub-b was removed but dnf installed it:\n%s", out)
	}
	repoFile, err := os.ReadFile(filepath.Join(root.Root, "etc/yum.repos.d/pubtest.repo"))
	if err != nil || !strings.Contains(string(repoFile), "baseurl=file://"+repo+"/") {
		t.Fatalf("installed pubtest.repo: %v\n%s", err, repoFile)
	}
	if _, err := os.Stat(filepath.Join(root.Root, "etc/pki/rpm-gpg/RPM-GPG-KEY-pubtest")); err != nil {
		t.Fatal(err)
	}
}

// Bad input exits with code 2 and names the problem.
func TestRepoPublishBadInput(t *testing.T) {
	keys := t.TempDir()
	kabiforge(t, "key", "generate", "--name", "pubtest", "--email", "t@kabiforge.invalid", "--algorithm", "ed25519", "--out", keys)
	priv := filepath.Join(keys, "pubtest.private.asc")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--to", t.TempDir(), "--key", priv}, "nothing to publish"},
		{[]string{"--to", t.TempDir(), "--key", priv, "/nonexistent/x.rpm"}, "/nonexistent/x.rpm"},
		{[]string{"--to", t.TempDir(), "--key", priv, "--name", "bad name", "--remove", "a-1-1.noarch"}, "repository name"},
		{[]string{"--to", "ftp://x/y", "--key", priv, "--remove", "a-1-1.noarch"}, "unknown scheme"},
	} {
		cmd := exec.Command(kabiforgeBin, append([]string{"repo", "publish"}, tc.args...)...)
		out, err := cmd.CombinedOutput()
		if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), tc.want) {
			t.Errorf("repo publish %v: %v, want exit 2 mentioning %q:\n%s", tc.args, err, tc.want, out)
		}
	}
}
