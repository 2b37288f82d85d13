package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// kabiforgeBin is the kabiforge binary built once for this package's tests.
var kabiforgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "kabiforge-bin")
	if err != nil {
		panic(err)
	}
	kabiforgeBin = filepath.Join(dir, "kabiforge")
	if err := testutil.BuildKabiforge(kabiforgeBin); err != nil {
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// kabiforge runs the built binary and fails the test when it fails.
func kabiforge(t *testing.T, args ...string) string {
	t.Helper()
	out, err := exec.Command(kabiforgeBin, append([]string{"--log-format", "json"}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("kabiforge %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// signedRepo builds two packages with rpmbuild, generates a key, signs the
// packages and indexes them with a signed repomd, all through the CLI.
// It returns the repository directory and the public key path.
func signedRepo(t *testing.T) (repo, pubKey, privKey string) {
	t.Helper()
	repo = t.TempDir()
	for _, name := range []string{"hello-a", "hello-b"} {
		for _, p := range testutil.RPMBuild(t, testutil.SimpleSpec(name, "1.0", "1")) {
			copyFile(t, p, filepath.Join(repo, "Packages", filepath.Base(p)))
		}
	}
	keys := t.TempDir()
	kabiforge(t, "key", "generate", "--name", "kabiforge-test", "--email", "test@kabiforge.invalid", "--out", keys)
	privKey = filepath.Join(keys, "kabiforge-test.private.asc")
	pubKey = filepath.Join(keys, "RPM-GPG-KEY-kabiforge-test")
	rpms, _ := filepath.Glob(filepath.Join(repo, "Packages", "*.rpm"))
	kabiforge(t, append([]string{"repo", "sign", "--key", privKey}, rpms...)...)
	kabiforge(t, "repo", "index", repo, "--sign-key", privKey)
	return repo, pubKey, privKey
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// dnfInstall installs hello-a and hello-b from baseurl with gpgcheck and
// repo_gpgcheck on.
func dnfInstall(t *testing.T, baseurl, pubKey string) (string, *testutil.DNFRoot, error) {
	t.Helper()
	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "kabiforge", BaseURL: baseurl, GPGKey: "file://" + pubKey})
	out, err := root.Install("hello-a", "hello-b")
	return out, root, err
}

// A repository signed and indexed by kabiforge installs with dnf over
// file:// and over http:// with gpgcheck=1 and repo_gpgcheck=1.
func TestDNFInstallsFromSignedRepo(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	repo, pub, _ := signedRepo(t)
	srv := httptest.NewServer(http.FileServer(http.Dir(repo)))
	defer srv.Close()
	for name, baseurl := range map[string]string{"file": "file://" + repo, "http": srv.URL} {
		t.Run(name, func(t *testing.T) {
			out, root, err := dnfInstall(t, baseurl, pub)
			if err != nil {
				t.Fatalf("dnf install over %s: %v\n%s", name, err, out)
			}
			got := strings.Join(root.Installed(t), " ")
			for _, want := range []string{"hello-a-1.0-1.el8.noarch", "hello-b-1.0-1.el8.noarch"} {
				if !strings.Contains(got, want) {
					t.Errorf("installed %q, want %s", got, want)
				}
			}
		})
	}
}

// dnf refuses a repository whose repomd.xml was changed after signing, one
// whose repomd.xml.asc is missing, and an unsigned package.
func TestDNFRefusesTamperedRepo(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	cases := map[string]func(t *testing.T, repo, key string){
		"tampered repomd.xml": func(t *testing.T, repo, key string) {
			p := filepath.Join(repo, "repodata", "repomd.xml")
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b = []byte(strings.Replace(string(b), "<revision>", "<revision>1", 1))
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
		},
		"missing repomd.xml.asc": func(t *testing.T, repo, key string) {
			if err := os.Remove(filepath.Join(repo, "repodata", "repomd.xml.asc")); err != nil {
				t.Fatal(err)
			}
		},
		"unsigned package": func(t *testing.T, repo, key string) {
			for _, p := range testutil.RPMBuild(t, testutil.SimpleSpec("hello-b", "1.1", "1")) {
				copyFile(t, p, filepath.Join(repo, "Packages", filepath.Base(p)))
			}
			kabiforge(t, "repo", "index", repo, "--sign-key", key)
		},
	}
	for name, spoil := range cases {
		t.Run(name, func(t *testing.T) {
			repo, pub, key := signedRepo(t)
			spoil(t, repo, key)
			out, root, err := dnfInstall(t, "file://"+repo, pub)
			if err == nil {
				t.Fatalf("dnf installed from a repo with a %s:\n%s\ninstalled: %v", name, out, root.Installed(t))
			}
			if want := refusals[name]; !strings.Contains(out, want) {
				t.Fatalf("dnf failed for another reason than %q:\n%s", want, out)
			}
		})
	}
}

// refusals is what dnf says when it refuses each spoiled repository.
var refusals = map[string]string{
	"tampered repomd.xml":    "Bad GPG signature",
	"missing repomd.xml.asc": "GPG signature is not available",
	"unsigned package":       "GPG check FAILED",
}
