package build

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/repo/repodata"
)

// mockUser is the unprivileged user mock drops to. mock refuses to run as
// root unless SUDO_UID names that user, and writes the result dir as it.
type mockUser struct {
	uid, gid int      // gid is the mock group's
	env      []string // mock's environment; nil inherits ours
}

// user works out who mock builds as. When the worker is not root, mock
// runs as the worker and nothing changes. As root, mock needs an
// unprivileged user: m.User, else the worker's own SUDO_UID.
func (m *Mock) user() (*mockUser, error) {
	if os.Geteuid() != 0 {
		return &mockUser{uid: os.Getuid(), gid: os.Getgid()}, nil
	}
	var u *user.User
	var err error
	switch name := m.User; {
	case name != "":
		if u, err = user.Lookup(name); err != nil {
			if u, err = user.LookupId(name); err != nil {
				return nil, fmt.Errorf("mock user %q: no such user", name)
			}
		}
	case os.Getenv("SUDO_UID") != "":
		if u, err = user.LookupId(os.Getenv("SUDO_UID")); err != nil {
			return nil, fmt.Errorf("mock user: SUDO_UID %s: %w", os.Getenv("SUDO_UID"), err)
		}
	default:
		return nil, errors.New("mock will not build as root: name the unprivileged user it builds as (builder.mock.user)")
	}
	g, err := user.LookupGroup("mock")
	if err != nil {
		return nil, fmt.Errorf("mock needs a group named mock (groupadd -r mock; usermod -aG mock %s): %w", u.Username, err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(g.Gid)
	env := []string{"SUDO_UID=" + u.Uid, "SUDO_GID=" + g.Gid, "SUDO_USER=" + u.Username}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SUDO_") {
			env = append(env, kv)
		}
	}
	return &mockUser{uid: uid, gid: gid, env: env}, nil
}

// mockStage is one build's staging dir, which mock's unprivileged user can
// reach wherever the caller's SRPM and result dir are: mock reads the
// config and the SRPM and writes its result dir as that user.
type mockStage struct {
	dir    string // 0755, the worker's
	cfg    string // dir/kabiforge.cfg
	srpm   string // dir/<name>.src.rpm, a link to or copy of the request's
	result string // dir/result, mock's user's
	user   *mockUser
	// release unlocks dir (see scratchDir); nil for a stage made by hand.
	release func()
}

// stage checks the template, finds mock's user, indexes the local
// repositories and lays out the staging dir.
func (m *Mock) stage(ctx context.Context, req Request, cfg []byte) (*mockStage, error) {
	infra := func(op string, err error) (*mockStage, error) {
		return nil, &InfraError{SRPM: req.SRPM, Op: op, Err: err}
	}
	configDir := or(m.ConfigDir, "/etc/mock")
	templateTime, err := checkTemplate(configDir, filepath.Join(configDir, or(req.Template, m.Template)+".cfg"), 0)
	if err != nil {
		return infra("check mock template", err)
	}
	u, err := m.user()
	if err != nil {
		return infra("find mock's user", err)
	}
	if err := localRepos(ctx, req.Repos); err != nil {
		return infra("index build repositories", err)
	}
	if err := os.MkdirAll(req.ResultDir, 0o755); err != nil {
		return infra("make result dir", err)
	}
	dir, release, err := scratchDir(m.WorkDir, "kabiforge-mock-")
	if err != nil {
		return infra("make staging dir", err)
	}
	st := &mockStage{dir: dir, cfg: filepath.Join(dir, "kabiforge.cfg"), srpm: filepath.Join(dir, filepath.Base(req.SRPM)),
		result: filepath.Join(dir, "result"), user: u, release: release}
	if ms := req.ModuleSigning; ms != nil {
		signing, err := st.moduleSigning(ms)
		if err != nil {
			st.remove()
			return infra("module signing", err)
		}
		cfg = append(slices.Clip(cfg), signing...)
	}
	if err := st.fill(req.SRPM, cfg, templateTime); err != nil {
		st.remove()
		return infra("make staging dir", err)
	}
	return st, nil
}

// fill lays out the staging dir. The config gets its template's time:
// mock rebuilds the root cache when a config file is newer than the cache,
// and the per-build config is always new, but what the cache holds (the
// buildroot's base install) is the template's.
func (st *mockStage) fill(srpm string, cfg []byte, templateTime time.Time) error {
	if err := os.Chmod(st.dir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(st.cfg, cfg, 0o644); err != nil {
		return err
	}
	if err := os.Chtimes(st.cfg, templateTime, templateTime); err != nil {
		return err
	}
	// A link serves when the package is readable by all; else a copy.
	if fi, err := os.Stat(srpm); err != nil {
		return err
	} else if fi.Mode().Perm()&0o004 == 0 || os.Link(srpm, st.srpm) != nil {
		if err := copyFile(srpm, st.srpm); err != nil {
			return err
		}
	}
	if err := os.Mkdir(st.result, 0o755); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		return os.Chown(st.result, st.user.uid, st.user.gid)
	}
	return nil
}

// mockModsignDir is where a build's module-signing key and certificate
// are mounted in its buildroot.
const mockModsignDir = "/var/tmp/kabiforge-modsign"

// moduleSigning writes the key and certificate into the staging dir, owned
// by mock's user (the buildroot's mockbuild user is the same uid), and
// returns the config lines that mount them into the buildroot and sign
// with them: the key is in the buildroot only while the build runs, never
// copied into it, and goes with the staging dir.
func (st *mockStage) moduleSigning(ms *ModuleSigning) ([]byte, error) {
	dir := filepath.Join(st.dir, "modsign")
	if err := ms.writeKeys(dir); err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		for _, p := range []string{dir, filepath.Join(dir, modsignKeyFile), filepath.Join(dir, modsignCertFile)} {
			if err := os.Chown(p, st.user.uid, st.user.gid); err != nil {
				return nil, err
			}
		}
	}
	macros, err := ms.macros(mockModsignDir)
	if err != nil {
		return nil, err
	}
	b := bytes.NewBufferString("\n# Module signing: the key is mounted for this build only.\n")
	if err := writeBindMounts(b, map[string]string{dir: mockModsignDir}); err != nil {
		return nil, err
	}
	if err := writeMacros(b, macros); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// collect moves what mock left in its result dir to dir.
func (st *mockStage) collect(dir string) error {
	entries, err := os.ReadDir(st.result)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if err := moveFile(filepath.Join(st.result, e.Name()), filepath.Join(dir, e.Name())); err != nil {
			return err
		}
	}
	return nil
}

func (st *mockStage) remove() {
	os.RemoveAll(st.dir)
	if st.release != nil {
		st.release()
	}
}

// localRepos gives mock a repository for every local directory among repos:
// mock hands the URL to dnf, which needs repodata, so a folder of bare RPMs
// is indexed with the project's repodata writer first.
func localRepos(ctx context.Context, repos []Repo) error {
	for _, r := range repos {
		if !strings.HasPrefix(r.URL, "/") && !strings.HasPrefix(r.URL, "file:") {
			continue
		}
		dir, err := localPath(r)
		if err != nil {
			return err
		}
		if _, err := os.Stat(filepath.Join(dir, "repodata", "repomd.xml")); err == nil {
			continue
		}
		if _, err := repodata.Index(ctx, dir, repodata.Options{}); err != nil {
			return fmt.Errorf("repository %s: %w", r.Name, err)
		}
	}
	return nil
}

// mockInclude is a line of a mock config that includes another config.
var mockInclude = regexp.MustCompile(`(?m)^\s*include\(\s*['"]([^'"]+)['"]\s*\)`)

// checkTemplate follows the includes of a mock config the way mock does
// (relative names against mock's config dir) and says which file is missing.
// The stock configs include /etc/mock/templates/… by absolute path, so a
// config dir elsewhere needs those templates in /etc/mock as well. It
// returns the newest modification time among the files.
func checkTemplate(configDir, path string, depth int) (time.Time, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("mock config %s: %w (mock's config dir is %s)", path, err, configDir)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return time.Time{}, fmt.Errorf("mock config %s: %w (mock's config dir is %s)", path, err, configDir)
	}
	if depth > 10 {
		return time.Time{}, fmt.Errorf("mock config %s: includes nested more than 10 deep", path)
	}
	newest := fi.ModTime()
	for _, m := range mockInclude.FindAllStringSubmatch(string(data), -1) {
		inc := m[1]
		if !filepath.IsAbs(inc) {
			inc = filepath.Join(configDir, inc)
		}
		if _, err := os.Stat(inc); err != nil {
			hint := ""
			if configDir != "/etc/mock" && strings.HasPrefix(inc, "/etc/mock/") {
				hint = "; stock configs include /etc/mock/templates by absolute path, so install them in /etc/mock too or use config dir /etc/mock"
			}
			return time.Time{}, fmt.Errorf("mock config %s includes %s, which is missing (mock's config dir is %s)%s", path, inc, configDir, hint)
		}
		t, err := checkTemplate(configDir, inc, depth+1)
		if err != nil {
			return time.Time{}, err
		}
		if t.After(newest) {
			newest = t
		}
	}
	return newest, nil
}
