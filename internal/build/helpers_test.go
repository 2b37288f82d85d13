package build

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign/modsigntest"
)

// specSRPM makes a source package from one of testdata/specs.
func specSRPM(t *testing.T, name string) string {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	spec, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "testdata", "specs", name))
	if err != nil {
		t.Fatal(err)
	}
	srpm, err := demo.SRPM(t.TempDir(), name, spec, nil)
	if err != nil {
		t.Fatal(err)
	}
	return srpm
}

// lines collects OnLog lines safely.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (c *lines) add(l string) { c.mu.Lock(); c.l = append(c.l, l); c.mu.Unlock() }

func (c *lines) has(sub string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, l := range c.l {
		if strings.Contains(l, sub) {
			return true
		}
	}
	return false
}

// kernelRepos caches the demo kernels built by buildKernel, by NVR, for the
// whole test binary: tests treat them as read-only.
var kernelRepos = struct {
	sync.Mutex
	dir   string
	repos map[string]string
}{repos: map[string]string{}}

func TestMain(m *testing.M) {
	modsigntest.Main()
	dir, err := os.MkdirTemp("", "kabiforge-build-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	kernelRepos.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// buildKernel builds demo kernel k (a BaseKernel or NextKernel of it, told
// apart by NVR) with the rpmbuild builder into a repository directory indexed
// by createrepo_c, and returns that directory.
func buildKernel(t *testing.T, k demo.Kernel) string {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	kernelRepos.Lock()
	defer kernelRepos.Unlock()
	if repo, ok := kernelRepos.repos[k.NVR]; ok {
		return repo
	}
	srpm, err := demo.KernelSRPM(t.TempDir(), k)
	if err != nil {
		t.Fatal(err)
	}
	repo := filepath.Join(kernelRepos.dir, k.NVR)
	if _, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: srpm, Arch: "x86_64", ResultDir: repo}); err != nil {
		t.Fatalf("build kernel %s: %v", k.NVR, err)
	}
	createrepo(t, repo)
	kernelRepos.repos[k.NVR] = repo
	return repo
}

func createrepo(t *testing.T, dir string) {
	t.Helper()
	testutil.RequireTool(t, "createrepo_c")
	if out, err := exec.Command("createrepo_c", "--quiet", dir).CombinedOutput(); err != nil {
		t.Fatalf("createrepo_c %s: %v\n%s", dir, err, out)
	}
}

// dnfInstall installs pkgs into a fresh testutil.DNFRoot from the given
// repository directories (unsigned) and returns dnf's output and error.
func dnfInstall(t *testing.T, repos []string, pkgs ...string) (string, error) {
	t.Helper()
	root := testutil.NewDNFRoot(t)
	for i, r := range repos {
		root.AddRepo(testutil.Repo{Name: fmt.Sprintf("r%d", i), BaseURL: "file://" + r})
	}
	return root.Install(pkgs...)
}

// copyInto copies files into dir.
func copyInto(t *testing.T, dir string, files ...string) {
	t.Helper()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(f)), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
