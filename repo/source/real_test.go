package source

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// copyTree copies the regular files below src into a new temporary folder.
func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(p string, e os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if e.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// librepo's repo_yum_01 carries a real repomd.xml.asc made with
// repomd.xml.key.
func TestLibrepoSignedRepomdVerifies(t *testing.T) {
	repo := testutil.SharedData(t, "rpm", "librepo", "repo_yum_01")
	cfg := config.Source{Name: "librepo", Kind: config.SourceRPMMD, URL: "file://" + repo,
		RepoGPGCheck: true, Keys: []string{filepath.Join(repo, "repodata", "repomd.xml.key")}}
	pkgs := list(t, newSource(t, cfg, Options{}))
	if len(pkgs) != 1 {
		t.Fatalf("listed %v", pkgs)
	}
	p := pkgs[0]
	if p.NEVRA.String() != "filesystem-2.4.44-1.fc16.i686" || !p.Vouched || p.Size != 1057084 ||
		p.Checksum != (Checksum{"sha1", "1687a3a01942475aeeddbf36a4a9b0ff714c046d"}) {
		t.Errorf("package %+v", p)
	}
}

// repomd.xml_bad is a different repomd.xml: the real signature must not
// verify it.
func TestLibrepoBadRepomdRefused(t *testing.T) {
	repo := copyTree(t, testutil.SharedData(t, "rpm", "librepo", "repo_yum_01"))
	md := filepath.Join(repo, "repodata", "repomd.xml")
	if err := os.Rename(md+"_bad", md); err != nil {
		t.Fatal(err)
	}
	cfg := config.Source{Name: "librepo", Kind: config.SourceRPMMD, URL: "file://" + repo,
		RepoGPGCheck: true, Keys: []string{filepath.Join(repo, "repodata", "repomd.xml.key")}}
	_, err := newSource(t, cfg, Options{}).List(context.Background())
	wantBadInput(t, err, ErrSignature)
}

// A missing repomd.xml.asc is refused when repo_gpgcheck is set.
func TestRepoGPGCheckNeedsSignature(t *testing.T) {
	repo := copyTree(t, testutil.SharedData(t, "rpm", "librepo", "repo_yum_01"))
	if err := os.Remove(filepath.Join(repo, "repodata", "repomd.xml.asc")); err != nil {
		t.Fatal(err)
	}
	cfg := config.Source{Name: "librepo", Kind: config.SourceRPMMD, URL: "file://" + repo,
		RepoGPGCheck: true, Keys: []string{filepath.Join(repo, "repodata", "repomd.xml.key")}}
	_, err := newSource(t, cfg, Options{}).List(context.Background())
	wantBadInput(t, err, ErrSignature)
}

func TestLibrepoRepositoriesList(t *testing.T) {
	for repo, want := range map[string]int{"repo_yum_01": 1, "repo_yum_02": 1, "yum_mock_03": 1} {
		dir := testutil.SharedData(t, "rpm", "librepo", repo)
		src := newSource(t, config.Source{Name: repo, Kind: config.SourceRPMMD, URL: "file://" + dir}, Options{})
		if got := len(list(t, src)); got != want {
			t.Errorf("%s: %d packages, want %d", repo, got, want)
		}
	}
}

// yum_mock_03 holds a real package with its metadata: Fetch checks the
// listed sha256 and, the package being unsigned, stores it only when
// unsigned packages are allowed.
func TestLibrepoFetchUnsigned(t *testing.T) {
	dir := testutil.SharedData(t, "rpm", "librepo", "yum_mock_03")
	src := newSource(t, config.Source{Name: "mock", Kind: config.SourceRPMMD, URL: "file://" + dir}, Options{})
	p := find(t, list(t, src), "Archer")
	st := openStore(t)
	centos, err := sign.LoadKeyring(testutil.SharedData(t, "rpm", "centos-signed", "RPM-GPG-KEY-CentOS-7"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = Fetch(context.Background(), src, p, st, FetchOptions{Keys: centos})
	wantBadInput(t, err, ErrSignature)
	if keys := storedKeys(t, st); len(keys) != 0 {
		t.Fatalf("refused package stored: %v", keys)
	}
	got, err := Fetch(context.Background(), src, p, st, FetchOptions{Unsigned: true})
	if err != nil {
		t.Fatal(err)
	}
	if got.SHA256 != p.Checksum.Hex || len(got.Signatures) != 0 {
		t.Errorf("fetched %+v, listed %+v", got, p)
	}
	if _, err := Fetch(context.Background(), src, p, st, FetchOptions{}); err == nil {
		t.Error("Fetch without keys and without Unsigned succeeded")
	}
}

// centosRepo indexes copies of real CentOS-signed packages.
func centosRepo(t testing.TB, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range files {
		data, err := os.ReadFile(testutil.SharedData(t, "rpm", "centos-signed", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	index(t, dir)
	return dir
}

func centosKeys(t testing.TB) *sign.Keyring {
	kr, err := sign.LoadKeyring(testutil.SharedData(t, "rpm", "centos-signed", "RPM-GPG-KEY-CentOS-7"))
	if err != nil {
		t.Fatal(err)
	}
	return kr
}

const (
	centos7 = "centos-release-7-2.1511.el7.centos.2.10.x86_64.rpm"
	centos6 = "centos-release-6-0.el6.centos.5.x86_64.rpm"
)

func TestCentOSSignedVerifies(t *testing.T) {
	dir := centosRepo(t, centos7, centos6, "epel-release-7-5.noarch.rpm")
	src := newSource(t, config.Source{Name: "c7", Kind: config.SourceRPMMD, URL: "file://" + dir}, Options{})
	pkgs := list(t, src)
	st := openStore(t)
	var c6, c7 Package
	for _, p := range pkgs {
		switch p.NEVRA.Release {
		case "0.el6.centos.5":
			c6 = p
		case "2.1511.el7.centos.2.10":
			c7 = p
		}
	}
	got, err := Fetch(context.Background(), src, c7, st, FetchOptions{Keys: centosKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Signatures) == 0 || got.Signatures[0].KeyID[8:] != "F4A80EB5" {
		t.Errorf("signatures %+v, want key f4a80eb5", got.Signatures)
	}
	// CentOS 7 signed epel-release-7-5 too.
	if _, err = Fetch(context.Background(), src, find(t, pkgs, "epel-release"), st, FetchOptions{Keys: centosKeys(t)}); err != nil {
		t.Fatal(err)
	}
	// CentOS 6's package is signed by the CentOS 6 key, not trusted here.
	_, err = Fetch(context.Background(), src, c6, st, FetchOptions{Keys: centosKeys(t)})
	wantBadInput(t, err, ErrSignature)
	if keys := storedKeys(t, st); len(keys) != 2 {
		t.Errorf("store holds %v, want centos-release-7 and epel-release", keys)
	}
}

func TestCentOSTamperedOrResignedRefused(t *testing.T) {
	dir := t.TempDir()
	orig, err := os.ReadFile(testutil.SharedData(t, "rpm", "centos-signed", centos7))
	if err != nil {
		t.Fatal(err)
	}
	tampered := append([]byte(nil), orig...)
	tampered[len(tampered)-100] ^= 0x40 // in the payload
	if err := os.WriteFile(filepath.Join(dir, centos7), tampered, 0o644); err != nil {
		t.Fatal(err)
	}
	// The metadata vouches for the tampered bytes: a mirror indexed them
	// with createrepo_c, which does not check a package's own digests
	// (repodata.Index refuses them).
	createrepo(t, dir)
	src := newSource(t, config.Source{Name: "c7", Kind: config.SourceRPMMD, URL: "file://" + dir}, Options{})
	st := openStore(t)
	_, err = Fetch(context.Background(), src, list(t, src)[0], st, FetchOptions{Keys: centosKeys(t)})
	wantBadInput(t, err, ErrSignature)

	resigned := filepath.Join(t.TempDir(), centos7)
	if err := os.WriteFile(resigned, orig, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := sign.NewSigner(testKey(t, "intruder")).SignRPMTo(resigned, filepath.Join(dir, centos7)); err != nil {
		t.Fatal(err)
	}
	index(t, dir)
	src = newSource(t, config.Source{Name: "c7", Kind: config.SourceRPMMD, URL: "file://" + dir}, Options{})
	p := list(t, src)[0]
	_, err = Fetch(context.Background(), src, p, st, FetchOptions{Keys: centosKeys(t)})
	wantBadInput(t, err, ErrSignature)
	if keys := storedKeys(t, st); len(keys) != 0 {
		t.Fatalf("refused packages stored: %v", keys)
	}
	// The same bytes verify against the key that re-signed them.
	if _, err := Fetch(context.Background(), src, p, st, FetchOptions{Keys: testKey(t, "intruder").Keyring()}); err != nil {
		t.Fatal(err)
	}
}

func TestFetchOptionsFor(t *testing.T) {
	key := testutil.SharedData(t, "rpm", "centos-signed", "RPM-GPG-KEY-CentOS-7")
	opts, err := FetchOptionsFor(config.Source{Name: "c7", Keys: []string{key}})
	if err != nil || opts.Keys == nil || opts.Unsigned || len(opts.Keys.KeyIDs()) == 0 {
		t.Fatalf("with keys: %+v, %v", opts, err)
	}
	if opts, err := FetchOptionsFor(config.Source{Name: "local", Unsigned: true}); err != nil || !opts.Unsigned {
		t.Fatalf("unsigned: %+v, %v", opts, err)
	}
	if _, err := FetchOptionsFor(config.Source{Name: "bare"}); err == nil {
		t.Fatal("a source with neither keys nor unsigned gets fetch options")
	}
	if _, err := FetchOptionsFor(config.Source{Name: "missing", Keys: []string{"/nonexistent/key"}}); err == nil {
		t.Fatal("a missing key file is accepted")
	}
}
