package repodata

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// sharedRPMs copies the createrepo_c test packages into a new directory.
func sharedRPMs(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	pkgs, _ := filepath.Glob(filepath.Join(testutil.SharedData(t, "rpm", "createrepo_c", "packages"), "*.rpm"))
	if len(pkgs) == 0 {
		t.Fatal("no createrepo_c test packages")
	}
	for _, p := range pkgs {
		copyFile(t, p, filepath.Join(dir, filepath.Base(p)))
	}
	return dir
}

// countingOpener counts the RPMs Index reads.
func countingOpener(n *atomic.Int32) func(string) (*rpm.Package, error) {
	return func(path string) (*rpm.Package, error) {
		n.Add(1)
		return rpm.Open(path)
	}
}

func TestIndexWritesChecksumNamedZstdByDefault(t *testing.T) {
	dir := sharedRPMs(t)
	now := time.Unix(1700000000, 0)
	res, err := Index(context.Background(), dir, Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	if res.Repomd.Revision != "1700000000" {
		t.Errorf("revision %q, want the Now time", res.Repomd.Revision)
	}
	for _, kind := range []string{"primary", "filelists", "other"} {
		d := res.Repomd.Find(kind)
		if d == nil {
			t.Fatalf("repomd.xml lacks %s", kind)
		}
		want := "repodata/" + d.Checksum + "-" + kind + ".xml.zst"
		if d.Location != want || d.ChecksumType != "sha256" || d.OpenChecksumType != "sha256" || d.Timestamp != now.Unix() {
			t.Errorf("%s: %+v, want location %s, sha256 and timestamp %d", kind, d, want, now.Unix())
		}
		b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(d.Location)))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, magicZstd) || int64(len(b)) != d.Size || d.OpenSize <= d.Size {
			t.Errorf("%s: %d bytes, zstd=%v, repomd size %d open-size %d", kind, len(b), bytes.HasPrefix(b, magicZstd), d.Size, d.OpenSize)
		}
	}
	repo, err := ReadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(repo.Packages) != res.Packages || res.Packages != 12 {
		t.Errorf("read back %d packages, indexed %d, want 12", len(repo.Packages), res.Packages)
	}
	assertNoLeftovers(t, dir)
}

// Packages over bigPackage are read in pieces (headers, then a streamed
// checksum) instead of whole; the metadata is the same.
func TestIndexStreamsBigPackages(t *testing.T) {
	now := func() time.Time { return time.Unix(1700000000, 0) }
	whole, streamed := sharedRPMs(t), sharedRPMs(t)
	for _, dir := range []string{whole, streamed} { // the same file times in both
		rpms, _ := filepath.Glob(filepath.Join(dir, "*.rpm"))
		for _, p := range rpms {
			if err := os.Chtimes(p, now(), now()); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := Index(context.Background(), whole, Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	defer func(n int64) { bigPackage = n }(bigPackage)
	bigPackage = 0
	if _, err := Index(context.Background(), streamed, Options{Now: now}); err != nil {
		t.Fatal(err)
	}
	a, errA := os.ReadFile(filepath.Join(whole, "repodata", "repomd.xml"))
	b, errB := os.ReadFile(filepath.Join(streamed, "repodata", "repomd.xml"))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		t.Errorf("repomd.xml differs between whole and streamed reads (%v, %v):\n%s\n%s", errA, errB, a, b)
	}
	// A payload bit flipped is found on the streamed path too.
	rpms, _ := filepath.Glob(filepath.Join(streamed, "*.rpm"))
	data, err := os.ReadFile(rpms[0])
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)-10] ^= 0x40
	if err := os.WriteFile(rpms[0], data, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Index(context.Background(), streamed, Options{Now: now}); err == nil || !strings.Contains(err.Error(), filepath.Base(rpms[0])) {
		t.Errorf("index of a package with a flipped payload bit: %v, want an error naming it", err)
	}
}

func TestIndexGzip(t *testing.T) {
	dir := sharedRPMs(t)
	res, err := Index(context.Background(), dir, Options{Compression: Gzip})
	if err != nil {
		t.Fatal(err)
	}
	if loc := res.Repomd.Find("primary").Location; !strings.HasSuffix(loc, "-primary.xml.gz") {
		t.Errorf("primary at %s, want .xml.gz", loc)
	}
	if _, err := ReadRepo(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCompression("lzma"); err == nil || !strings.Contains(err.Error(), "lzma") {
		t.Errorf("ParseCompression(lzma) = %v, want an error naming it", err)
	}
}

// assertNoLeftovers fails if Index left temporary directories in dir.
func assertNoLeftovers(t *testing.T, dir string) {
	t.Helper()
	tmps, _ := filepath.Glob(filepath.Join(dir, ".repodata-*"))
	if len(tmps) > 0 {
		t.Errorf("temporary directories left behind: %v", tmps)
	}
}

func TestIndexBadRPMLeavesNoRepodata(t *testing.T) {
	good := filepath.Join(testutil.SharedData(t, "rpm", "createrepo_c", "packages"), "fake_bash-1.1.1-1.x86_64.rpm")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	corrupt := bytes.Clone(data)
	copy(corrupt[96+16+8:], []byte{0x7f, 0xff, 0xff, 0xff}) // signature header: absurd index count
	cases := []struct {
		name    string
		content []byte
		want    string
	}{
		{"truncated.rpm", data[:len(data)/3], "truncated"},
		{"notes.rpm", bytes.Repeat([]byte("just some text, not a package\n"), 10), "not an RPM"},
		{"corrupt.rpm", corrupt, "signature header"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			copyFile(t, good, filepath.Join(dir, "fake_bash-1.1.1-1.x86_64.rpm"))
			if err := os.WriteFile(filepath.Join(dir, c.name), c.content, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Index(context.Background(), dir, Options{})
			if err == nil || !strings.Contains(err.Error(), c.name) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Index error %v, want one naming %s and %q", err, c.name, c.want)
			}
			if _, err := os.Stat(filepath.Join(dir, "repodata")); !os.IsNotExist(err) {
				t.Errorf("repodata exists after a failed index (stat: %v)", err)
			}
			assertNoLeftovers(t, dir)
		})
	}
}

func TestIndexFailureKeepsPreviousRepodata(t *testing.T) {
	dir := sharedRPMs(t)
	if _, err := Index(context.Background(), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "broken.rpm"), []byte("nope"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Index(context.Background(), dir, Options{}); err == nil {
		t.Fatal("Index succeeded with broken.rpm in the directory")
	}
	after, err := os.ReadFile(filepath.Join(dir, "repodata", "repomd.xml"))
	if err != nil || !bytes.Equal(before, after) {
		t.Errorf("previous repomd.xml changed or vanished (err %v)", err)
	}
	if _, err := ReadRepo(dir); err != nil {
		t.Errorf("previous metadata no longer reads: %v", err)
	}
	assertNoLeftovers(t, dir)
}

func TestIndexUpdateRereadsOnlyChangedPackages(t *testing.T) {
	t.Run("from cache", func(t *testing.T) { testUpdate(t, false) })
	t.Run("from XML", func(t *testing.T) { testUpdate(t, true) })
}

// testUpdate adds, touches and removes packages and checks that an update
// reads only the added one; dropCache makes it read the old XML.
func testUpdate(t *testing.T, dropCache bool) {
	dir := sharedRPMs(t)
	var opened atomic.Int32
	opts := Options{Update: true, Open: countingOpener(&opened)}
	if res, err := Index(context.Background(), dir, opts); err != nil || res.Reused != 0 || opened.Load() != 12 {
		t.Fatalf("first index: %+v, %v, %d opened; want 12 read, none reused", res, err, opened.Load())
	}
	full, err := ReadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}

	// Add one package, touch one (same content, new mtime), remove one.
	opened.Store(0)
	copyFile(t, filepath.Join(testutil.SharedData(t, "rpm", "go-rpmutils"), "one-epoch-0.1-1.x86_64.rpm"), filepath.Join(dir, "one-epoch-0.1-1.x86_64.rpm"))
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(filepath.Join(dir, "Archer-3.4.5-6.x86_64.rpm"), later, later); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(dir, "fake_bash-1.1.1-1.x86_64.rpm")); err != nil {
		t.Fatal(err)
	}
	if dropCache {
		if err := os.Remove(filepath.Join(dir, CacheName)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := Index(context.Background(), dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	if opened.Load() != 1 || res.Reused != 11 || res.Packages != 12 {
		t.Errorf("update read %d RPMs, reused %d of %d; want 1 read, 11 reused, 12 packages", opened.Load(), res.Reused, res.Packages)
	}
	updated, err := ReadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Reused records must equal what a full read produced, except the
	// touched file's mtime.
	old := make(map[string]*Package)
	for _, p := range full.Packages {
		old[p.Location] = p
	}
	for _, p := range updated.Packages {
		switch p.Location {
		case "fake_bash-1.1.1-1.x86_64.rpm":
			t.Error("removed package still listed")
		case "one-epoch-0.1-1.x86_64.rpm":
			if p.Name != "one-epoch" || p.Epoch != "1" {
				t.Errorf("added package read as %s", p.NEVRA())
			}
		case "Archer-3.4.5-6.x86_64.rpm":
			if p.FileTime != later.Unix() {
				t.Errorf("touched package keeps time file=%d, want %d", p.FileTime, later.Unix())
			}
			q := *old[p.Location]
			q.FileTime = p.FileTime
			for _, d := range diffPackages(p, &q) {
				t.Errorf("touched package: %s", d)
			}
		default:
			for _, d := range diffPackages(p, old[p.Location]) {
				t.Errorf("%s: %s", p.Location, d)
			}
		}
	}
}

func TestIndexSignsFinalRepomd(t *testing.T) {
	dir := sharedRPMs(t)
	key, err := sign.Generate("Repo Test", "repo@example.com", sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Index(context.Background(), dir, Options{Signer: sign.NewSigner(key)}); err != nil {
		t.Fatal(err)
	}
	md := filepath.Join(dir, "repodata", "repomd.xml")
	id, err := key.Keyring().VerifyFile(md, md+".asc")
	if err != nil {
		t.Fatalf("repomd.xml.asc does not verify: %v", err)
	}
	if id != key.KeyID() {
		t.Errorf("signed by %s, want %s", id, key.KeyID())
	}
}

type failingSigner struct{}

func (failingSigner) Detach(w io.Writer, r io.Reader) error { return errors.New("card removed") }

func TestIndexSignerFailureLeavesNoRepodata(t *testing.T) {
	dir := sharedRPMs(t)
	_, err := Index(context.Background(), dir, Options{Signer: failingSigner{}})
	if err == nil || !strings.Contains(err.Error(), "sign repomd.xml") || !strings.Contains(err.Error(), "card removed") {
		t.Fatalf("Index error %v, want the signing failure", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "repodata")); !os.IsNotExist(err) {
		t.Errorf("repodata exists after a failed signature (stat: %v)", err)
	}
	assertNoLeftovers(t, dir)
}

// An update of a repository createrepo_c indexed reuses createrepo_c's
// records (the cache, which describes other metadata, is ignored).
func TestIndexUpdateOfCreaterepoCRepository(t *testing.T) {
	dir := sharedRPMs(t)
	if _, err := Index(context.Background(), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	createrepo(t, dir)
	theirs, err := ReadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	var opened atomic.Int32
	res, err := Index(context.Background(), dir, Options{Update: true, Open: countingOpener(&opened)})
	if err != nil {
		t.Fatal(err)
	}
	if opened.Load() != 0 || res.Reused != 12 {
		t.Errorf("update read %d RPMs and reused %d, want 0 and 12", opened.Load(), res.Reused)
	}
	ours, err := ReadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, p := range ours.Packages {
		for _, d := range diffPackages(p, theirs.Packages[i]) {
			t.Errorf("%s: %s", p.Location, d)
		}
	}
}

// Packages in subdirectories and symlinks to packages are indexed with their
// paths relative to the root; hidden directories and repodata are not searched.
func TestIndexFindsPackages(t *testing.T) {
	src := testutil.SharedData(t, "rpm", "createrepo_c", "packages")
	dir := t.TempDir()
	for _, sub := range []string{"a/b", ".hidden", "repodata"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	copyFile(t, filepath.Join(src, "fake_bash-1.1.1-1.x86_64.rpm"), filepath.Join(dir, "a", "b", "fake_bash-1.1.1-1.x86_64.rpm"))
	copyFile(t, filepath.Join(src, "Rimmer-1.0.2-2.x86_64.rpm"), filepath.Join(dir, ".hidden", "Rimmer-1.0.2-2.x86_64.rpm"))
	copyFile(t, filepath.Join(src, "Rimmer-1.0.2-2.x86_64.rpm"), filepath.Join(dir, "repodata", "Rimmer-1.0.2-2.x86_64.rpm"))
	if err := os.Symlink(filepath.Join(src, "super_kernel-6.0.1-2.x86_64.rpm"), filepath.Join(dir, "linked.rpm")); err != nil {
		t.Fatal(err)
	}
	if _, err := Index(context.Background(), dir, Options{}); err != nil {
		t.Fatal(err)
	}
	repo, err := ReadRepo(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range repo.Packages {
		got = append(got, p.Location+"="+p.Name)
	}
	if want := "a/b/fake_bash-1.1.1-1.x86_64.rpm=fake_bash linked.rpm=super_kernel"; strings.Join(got, " ") != want {
		t.Errorf("indexed %v, want %s", got, want)
	}
}

func TestIndexEmptyDirectory(t *testing.T) {
	dir := t.TempDir()
	res, err := Index(context.Background(), dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	repo, err := ReadRepo(dir)
	if err != nil || res.Packages != 0 || len(repo.Packages) != 0 {
		t.Fatalf("empty repository: %d indexed, read back %v, %v", res.Packages, repo, err)
	}
}

// WriteMetadata republishes records read back from a repository, plus a new
// package described on its own, without the old RPMs at hand.
func TestWriteMetadataFromRecords(t *testing.T) {
	src := sharedRPMs(t)
	if _, err := Index(context.Background(), src, Options{}); err != nil {
		t.Fatal(err)
	}
	old, err := ReadRepo(src)
	if err != nil {
		t.Fatal(err)
	}
	added, err := Describe(filepath.Join(testutil.SharedData(t, "rpm", "go-rpmutils"), "one-epoch-0.1-1.x86_64.rpm"), "new/one-epoch-0.1-1.x86_64.rpm")
	if err != nil {
		t.Fatal(err)
	}
	dst := t.TempDir()
	if _, err := WriteMetadata(dst, append(old.Packages, added), Options{Compression: Gzip}); err != nil {
		t.Fatal(err)
	}
	got, err := ReadRepo(dst)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Packages) != 13 {
		t.Fatalf("%d packages, want 13", len(got.Packages))
	}
	for i, p := range old.Packages {
		for _, d := range diffPackages(got.Packages[i], p) {
			t.Errorf("%s: %s", p.Location, d)
		}
	}
	if last := got.Packages[12]; last.Location != "new/one-epoch-0.1-1.x86_64.rpm" || last.Epoch != "1" {
		t.Errorf("added package read back as %s at %s", last.NEVRA(), last.Location)
	}
	if _, err := WriteMetadata(dst, []*Package{added, added}, Options{}); err == nil || !strings.Contains(err.Error(), "two packages at new/one-epoch") {
		t.Errorf("duplicate location: %v", err)
	}
	bad := *added
	bad.Location = "../outside.rpm"
	if _, err := WriteMetadata(dst, []*Package{&bad}, Options{}); err == nil || !strings.Contains(err.Error(), "../outside.rpm") {
		t.Errorf("escaping location: %v", err)
	}
	assertNoLeftovers(t, dst)
}

func TestIndexCancelled(t *testing.T) {
	dir := sharedRPMs(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Index(ctx, dir, Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Index with a cancelled context: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "repodata")); !os.IsNotExist(err) {
		t.Errorf("repodata exists after cancellation (stat: %v)", err)
	}
	assertNoLeftovers(t, dir)
}
