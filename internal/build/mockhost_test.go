package build

import (
	"context"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/repo/repodata"
)

// The folder of bare RPMs the kmod build downloads becomes a repository dnf
// (inside mock) can read: repodata written by the project's writer, listing
// exactly the packages.
func TestLocalReposIndexesBareFolders(t *testing.T) {
	srpm, bin := builtPackages(t)
	bare, indexed := t.TempDir(), t.TempDir()
	copyInto(t, bare, bin)
	copyInto(t, indexed, bin)
	if _, err := repodata.Index(context.Background(), indexed, repodata.Options{}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(indexed, "repodata", "repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	repos := []Repo{{Name: "deps", URL: "file://" + bare}, {Name: "kernel", URL: indexed},
		{Name: "remote", URL: "https://repo.example.org/el9/"}}
	if err := localRepos(context.Background(), repos); err != nil {
		t.Fatal(err)
	}
	r, err := repodata.ReadRepo(bare)
	if err != nil {
		t.Fatalf("the bare folder is still no repository: %v", err)
	}
	if len(r.Packages) != 1 || r.Packages[0].Name != "kabiforge-collect" {
		t.Errorf("repository lists %d packages: %+v", len(r.Packages), r.Packages)
	}
	after, _ := os.ReadFile(filepath.Join(indexed, "repodata", "repomd.xml"))
	if string(after) != string(before) {
		t.Error("an indexed repository was re-indexed")
	}
	err = localRepos(context.Background(), []Repo{{Name: "broken", URL: "file://" + filepath.Dir(srpm) + "/missing"}})
	if err == nil || !strings.Contains(err.Error(), "repository broken") {
		t.Errorf("missing folder: err = %v", err)
	}
}

// mock resolves relative includes in its config dir, and the stock configs
// include /etc/mock/templates by absolute path: the builder says which file
// is missing before mock runs.
func TestCheckTemplateFollowsIncludes(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("templates/base.tpl", "config_opts['dist'] = 'el9'\n")
	write("good-x86_64.cfg", "include('templates/base.tpl')\nconfig_opts['root'] = 'good'\n")
	write("eol/abs-x86_64.cfg", "include('/etc/mock/templates/kabiforge-no-such.tpl')\n")
	write("deep-x86_64.cfg", "  include(\"good-x86_64.cfg\")\ninclude('templates/gone.tpl')\n")
	old := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "good-x86_64.cfg"), old, old); err != nil {
		t.Fatal(err)
	}
	tplTime := old.Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "templates/base.tpl"), tplTime, tplTime); err != nil {
		t.Fatal(err)
	}
	if newest, err := checkTemplate(dir, filepath.Join(dir, "good-x86_64.cfg"), 0); err != nil || !newest.Equal(tplTime) {
		t.Errorf("good template: newest %v, %v; want %v", newest, err, tplTime)
	}
	for name, want := range map[string]string{
		"eol/abs-x86_64.cfg": "includes /etc/mock/templates/kabiforge-no-such.tpl, which is missing (mock's config dir is " + dir + "); stock configs include /etc/mock/templates",
		"deep-x86_64.cfg":    "includes " + filepath.Join(dir, "templates/gone.tpl") + ", which is missing",
		"none-x86_64.cfg":    "none-x86_64.cfg: no such file or directory",
	} {
		_, err := checkTemplate(dir, filepath.Join(dir, name), 0)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", name, err, want)
		}
	}
	m := &Mock{Template: "eol/abs-x86_64", ConfigDir: dir, Isolation: "simple"}
	_, err := m.Build(context.Background(), Request{SRPM: "/in/x-1-1.src.rpm", Arch: "x86_64", ResultDir: t.TempDir()})
	if !Retryable(err) || !strings.Contains(err.Error(), "kabiforge-no-such.tpl, which is missing") {
		t.Errorf("Build with a broken template: err = %v", err)
	}
}

// Builds of one template and arch share a root name (and so mock's root
// cache); their buildroots differ by --uniqueext.
func TestMockRootSharedPerStreamAndArch(t *testing.T) {
	m := &Mock{Template: "centos-stream-9-x86_64", ConfigDir: "/srv/mock"}
	a := Request{SRPM: "/in/a-1-1.src.rpm", Arch: "x86_64", ResultDir: "/out/a"}
	b := Request{SRPM: "/in/b-1-1.src.rpm", Arch: "x86_64", ResultDir: "/out/b"}
	if rootName(m.Template, a) != "kabiforge-centos-stream-9-x86_64" || rootName(m.Template, a) != rootName(m.Template, b) {
		t.Errorf("roots %s, %s", rootName(m.Template, a), rootName(m.Template, b))
	}
	if got := rootName("eol/centos-stream-8-x86_64", Request{Arch: "i686"}); got != "kabiforge-eol-centos-stream-8-x86_64-i686" {
		t.Errorf("root %s", got)
	}
	argA, argB := strings.Join(m.Argv("/c.cfg", a), " "), strings.Join(m.Argv("/c.cfg", b), " ")
	if !strings.Contains(argA, "--configdir /srv/mock --uniqueext "+uniqueExt(a)) || uniqueExt(a) == uniqueExt(b) || argA == argB {
		t.Errorf("argv\n%s\n%s", argA, argB)
	}
}

// As root, mock needs an unprivileged user in the mock group, and mock's
// result dir must be that user's, its config and SRPM readable by it
// (mock exits 70 when the result dir is not): the staging dir sees to it
// wherever the request's files are.
func TestMockUserOwnsResultDir(t *testing.T) {
	if os.Geteuid() != 0 {
		u, err := (&Mock{}).user()
		if err != nil || u.uid != os.Getuid() || u.env != nil {
			t.Fatalf("not root: user %+v, %v", u, err)
		}
		return
	}
	t.Setenv("SUDO_UID", "")
	if _, err := (&Mock{}).user(); err == nil || !strings.Contains(err.Error(), "builder.mock.user") {
		t.Errorf("root without a user: err = %v", err)
	}
	if _, err := (&Mock{User: "kabiforge-no-such-user"}).user(); err == nil || !strings.Contains(err.Error(), "no such user") {
		t.Errorf("unknown user: err = %v", err)
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Fatal(err)
	}
	u, err := (&Mock{User: "nobody"}).user()
	if _, gerr := user.LookupGroup("mock"); gerr != nil {
		if err == nil || !strings.Contains(err.Error(), "group named mock") {
			t.Errorf("no mock group: err = %v", err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if strconv.Itoa(u.uid) != nobody.Uid || !strings.Contains(strings.Join(u.env, "\n"), "SUDO_UID="+nobody.Uid+"\n") {
		t.Errorf("user %+v", u)
	}
	cfgDir := t.TempDir()
	if err := os.WriteFile(filepath.Join(cfgDir, "t-x86_64.cfg"), []byte("config_opts['root'] = 't'\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	srpm, _ := builtPackages(t)
	private := filepath.Join(t.TempDir(), "in")
	if err := os.Mkdir(private, 0o700); err != nil {
		t.Fatal(err)
	}
	copyInto(t, private, srpm)
	if err := os.Chmod(filepath.Join(private, filepath.Base(srpm)), 0o600); err != nil {
		t.Fatal(err)
	}
	m := &Mock{Template: "t-x86_64", ConfigDir: cfgDir, User: "nobody", WorkDir: t.TempDir()}
	req := Request{SRPM: filepath.Join(private, filepath.Base(srpm)), Arch: "x86_64", ResultDir: filepath.Join(t.TempDir(), "out")}
	st, err := m.stage(context.Background(), req, []byte("cfg"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.remove()
	owned := func(path string, uid, gid int, perm os.FileMode) {
		t.Helper()
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		sys := fi.Sys().(*syscall.Stat_t)
		if int(sys.Uid) != uid || int(sys.Gid) != gid || fi.Mode().Perm() != perm {
			t.Errorf("%s: %v owned by %d:%d, want %v %d:%d", path, fi.Mode().Perm(), sys.Uid, sys.Gid, perm, uid, gid)
		}
	}
	owned(st.result, u.uid, u.gid, 0o755)
	owned(st.dir, 0, 0, 0o755)
	owned(st.cfg, 0, 0, 0o644)
	owned(st.srpm, 0, 0, 0o644)
	// mock rebuilds its root cache when a config is newer than the cache:
	// the per-build config carries its template's time.
	cfi, err := os.Stat(st.cfg)
	tfi, terr := os.Stat(filepath.Join(cfgDir, "t-x86_64.cfg"))
	if err != nil || terr != nil || !cfi.ModTime().Equal(tfi.ModTime()) {
		t.Errorf("staged config time %v, template's %v (%v, %v)", cfi.ModTime(), tfi.ModTime(), err, terr)
	}
	if _, err := os.Stat(req.ResultDir); err != nil {
		t.Errorf("result dir not made: %v", err)
	}
}
