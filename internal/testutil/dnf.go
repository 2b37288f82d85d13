package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// DNFRoot is an empty installroot with its own dnf.conf, so tests install
// packages with the host's dnf without touching the host (Debian's own
// /etc/dnf/dnf.conf sets skip_if_unavailable=True, which would hide failures).
type DNFRoot struct {
	Root  string
	Conf  string
	repos []string
}

// Repo is one repository section of a DNFRoot's dnf.conf.
type Repo struct {
	Name    string
	BaseURL string
	// GPGKey is the URL of the key that signs the packages and repomd.xml.
	// When empty, gpgcheck and repo_gpgcheck are off for this repository.
	GPGKey string
}

// NewDNFRoot makes an installroot under a temporary directory.
func NewDNFRoot(t testing.TB) *DNFRoot {
	t.Helper()
	RequireTool(t, "dnf")
	dir := t.TempDir()
	r := &DNFRoot{Root: filepath.Join(dir, "root"), Conf: filepath.Join(dir, "dnf.conf")}
	for _, d := range []string{r.Root, filepath.Join(dir, "repos.d"), filepath.Join(dir, "plugins.d")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	r.repos = []string{fmt.Sprintf(`[main]
gpgcheck=1
repo_gpgcheck=1
skip_if_unavailable=False
install_weak_deps=False
keepcache=False
plugins=0
pluginconfpath=%s
reposdir=%s
cachedir=%s
`, filepath.Join(dir, "plugins.d"), filepath.Join(dir, "repos.d"), filepath.Join(dir, "cache"))}
	return r
}

// AddRepo adds a repository to the root's dnf.conf.
func (r *DNFRoot) AddRepo(repo Repo) {
	check := "gpgcheck=0\nrepo_gpgcheck=0\n"
	if repo.GPGKey != "" {
		check = "gpgcheck=1\nrepo_gpgcheck=1\ngpgkey=" + repo.GPGKey + "\n"
	}
	r.repos = append(r.repos, fmt.Sprintf("[%s]\nname=%s\nbaseurl=%s\nmetadata_expire=0\n%s",
		repo.Name, repo.Name, repo.BaseURL, check))
	if err := os.WriteFile(r.Conf, []byte(strings.Join(r.repos, "\n")), 0o644); err != nil {
		panic(err)
	}
}

// AddRepoFile adds the sections of a .repo file, as published for users,
// to the root's dnf.conf.
func (r *DNFRoot) AddRepoFile(content string) {
	r.repos = append(r.repos, content)
	if err := os.WriteFile(r.Conf, []byte(strings.Join(r.repos, "\n")), 0o644); err != nil {
		panic(err)
	}
}

// Run runs dnf with the root's configuration and returns its combined
// output. Plugins are off (--noplugins, plugins=0 and an empty
// pluginconfpath): a host's dnf-plugins-core, whose local plugin adds a
// _dnf_local repository, must not change what a test installs.
func (r *DNFRoot) Run(args ...string) (string, error) {
	argv := append([]string{"-y", "-q", "--noplugins", "--installroot", r.Root, "-c", r.Conf, "--releasever", "8",
		"--setopt", "tsflags=nodocs"}, args...)
	cmd := exec.Command("dnf", argv...)
	cmd.Env = isolatedEnv(filepath.Dir(r.Conf))
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Install installs packages into the root.
func (r *DNFRoot) Install(pkgs ...string) (string, error) {
	return r.Run(append([]string{"install"}, pkgs...)...)
}

// Installed lists the NEVRAs installed in the root.
func (r *DNFRoot) Installed(t testing.TB) []string {
	t.Helper()
	cmd := exec.Command("rpm", "--root", r.Root, "-qa", "--qf", "%{NEVRA}\n")
	cmd.Env = isolatedEnv(filepath.Dir(r.Conf))
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("rpm --root %s -qa: %v", r.Root, err)
	}
	return strings.Fields(string(out))
}

// isolatedEnv is the environment for rpm and dnf in tests: HOME is home, so
// a developer's ~/.rpmmacros and ~/.config do not change what they do.
func isolatedEnv(home string) []string {
	env := []string{"HOME=" + home, "LC_ALL=C.UTF-8"}
	for _, k := range []string{"PATH", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return env
}
