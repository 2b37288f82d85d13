package repodata

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

func TestReadRepoRealMetadata(t *testing.T) {
	cases := []struct {
		elem      []string
		nevras    []string
		files     int // of the first package, from filelists
		changelog int
	}{
		// createrepo (yum era), sha1 checksums, a 14,508-file package.
		{[]string{"librepo", "repo_yum_01"}, []string{"filesystem-2.4.44-1.fc16.i686"}, 14508, 10},
		// createrepo_c with tags, sqlite, updateinfo and comps alongside.
		{[]string{"librepo", "repo_yum_02"}, []string{"filesystem-2.4.44-1.fc16.i686"}, 14508, 10},
		{[]string{"librepo", "yum_mock_03"}, []string{"Archer-2:3.4.5-6.x86_64"}, 3, 3},
		{[]string{"createrepo_c", "repo_02"}, []string{"fake_bash-1.1.1-1.x86_64", "super_kernel-6.0.1-2.x86_64"}, 1, 1},
	}
	for _, c := range cases {
		t.Run(strings.Join(c.elem, "/"), func(t *testing.T) {
			repo, err := ReadRepo(testutil.SharedData(t, append([]string{"rpm"}, c.elem...)...))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, p := range repo.Packages {
				got = append(got, p.NEVRA())
			}
			if strings.Join(got, " ") != strings.Join(c.nevras, " ") {
				t.Fatalf("packages %v, want %v", got, c.nevras)
			}
			p := repo.Packages[0]
			if len(p.Files) != c.files || len(p.Changelogs) != c.changelog {
				t.Errorf("%s: %d files, %d changelogs; want %d, %d", p.Name, len(p.Files), len(p.Changelogs), c.files, c.changelog)
			}
			if p.Checksum == "" || p.Location == "" || p.HeaderEnd <= p.HeaderStart || p.PackageSize == 0 {
				t.Errorf("%s: incomplete record %+v", p.Name, p)
			}
		})
	}
}

func TestReadRepoArcherFields(t *testing.T) {
	repo, err := ReadRepo(testutil.SharedData(t, "rpm", "librepo", "yum_mock_03"))
	if err != nil {
		t.Fatal(err)
	}
	p := repo.Packages[0]
	want := Dep{Name: "foof", Flags: "EQ", Epoch: "0", Version: "6", Pre: true}
	found := false
	for _, d := range p.Requires {
		found = found || d == want
	}
	if !found {
		t.Errorf("requires %+v lack %+v", p.Requires, want)
	}
	if p.Epoch != "2" || p.Vendor != "ISIS" || p.SourceRPM != "Archer-3.4.5-6.src.rpm" {
		t.Errorf("epoch %q vendor %q sourcerpm %q", p.Epoch, p.Vendor, p.SourceRPM)
	}
	dirs := 0
	for _, f := range p.Files {
		if f == (File{Path: "/usr/share/doc/Archer-3.4.5", Type: "dir"}) {
			dirs++
		}
	}
	if dirs != 1 {
		t.Errorf("files %+v, want the doc directory once", p.Files)
	}
}

// The primary.xml.gz shipped in createrepo_c's repo_01 is one byte longer
// than its repomd.xml says: a real damaged repository.
func TestReadRepoRejectsRealMismatch(t *testing.T) {
	_, err := ReadRepo(testutil.SharedData(t, "rpm", "createrepo_c", "repo_01"))
	if err == nil || !strings.Contains(err.Error(), "-primary.xml.gz") || !strings.Contains(err.Error(), "size 783, repomd.xml says 782") {
		t.Fatalf("ReadRepo error %v, want a size mismatch naming primary.xml.gz", err)
	}
}

// damaged copies yum_mock_03 and lets change spoil it.
func damaged(t *testing.T, change func(repodata string)) error {
	t.Helper()
	dir := copyTree(t, testutil.SharedData(t, "rpm", "librepo", "yum_mock_03"))
	change(filepath.Join(dir, "repodata"))
	_, err := ReadRepo(dir)
	return err
}

func rewriteGzip(t *testing.T, path string, edit func([]byte) []byte) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var plain bytes.Buffer
	if _, err := plain.ReadFrom(zr); err != nil {
		t.Fatal(err)
	}
	f.Close()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	zw.Write(edit(plain.Bytes()))
	zw.Close()
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func glob1(t *testing.T, pattern string) string {
	t.Helper()
	m, _ := filepath.Glob(pattern)
	if len(m) != 1 {
		t.Fatalf("%s matches %v", pattern, m)
	}
	return m[0]
}

func TestReadRepoErrorsNameTheFile(t *testing.T) {
	cases := []struct {
		name   string
		change func(t *testing.T, rd string)
		want   []string
	}{
		{"missing primary", func(t *testing.T, rd string) {
			os.Remove(glob1(t, filepath.Join(rd, "*-primary.xml.gz")))
		}, []string{"-primary.xml.gz", "no such file"}},
		{"missing repomd", func(t *testing.T, rd string) {
			os.Remove(filepath.Join(rd, "repomd.xml"))
		}, []string{"repomd.xml", "no such file"}},
		{"tampered filelists", func(t *testing.T, rd string) {
			rewriteGzip(t, glob1(t, filepath.Join(rd, "*-filelists.xml.gz")), func(b []byte) []byte {
				return bytes.Replace(b, []byte("complex_a"), []byte("complex_b"), 1)
			})
		}, []string{"-filelists.xml.gz", "size 300, repomd.xml says 292"}},
		{"wrong checksum in repomd", func(t *testing.T, rd string) {
			editFile(t, filepath.Join(rd, "repomd.xml"), "<checksum type=\"sha256\">62ab", "<checksum type=\"sha256\">72ab")
		}, []string{"-primary.xml.gz", "sha256 checksum mismatch", "repomd.xml says 72ab"}},
		{"wrong open-checksum in repomd", func(t *testing.T, rd string) {
			editFile(t, filepath.Join(rd, "repomd.xml"), ">f7f5c79d", ">07f5c79d")
		}, []string{"-filelists.xml.gz", "open-checksum mismatch"}},
		{"malformed repomd", func(t *testing.T, rd string) {
			os.WriteFile(filepath.Join(rd, "repomd.xml"), []byte("<repomd xmlns=\"http://linux.duke.edu/metadata/repo\"><data>"), 0o644)
		}, []string{"repomd.xml", "unexpected EOF"}},
		{"repomd without checksum", func(t *testing.T, rd string) {
			os.WriteFile(filepath.Join(rd, "repomd.xml"), []byte(`<repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary"><location href="repodata/x.xml"/></data></repomd>`), 0o644)
		}, []string{"repomd.xml", `"primary"`, "lacks"}},
		{"location escapes", func(t *testing.T, rd string) {
			os.WriteFile(filepath.Join(rd, "repomd.xml"), []byte(`<repomd xmlns="http://linux.duke.edu/metadata/repo"><data type="primary"><checksum type="sha256">00</checksum><location href="../../etc/passwd"/></data></repomd>`), 0o644)
		}, []string{"../../etc/passwd", "outside"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := damaged(t, func(rd string) { c.change(t, rd) })
			if err == nil {
				t.Fatal("ReadRepo accepted damaged metadata")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q lacks %q", err, w)
				}
			}
		})
	}
}

func TestDecodePrimaryRejectsMalformed(t *testing.T) {
	head := `<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">`
	pkg := `<package type="rpm"><name>a</name><arch>noarch</arch><version epoch="0" ver="1" rel="1"/><checksum type="sha256" pkgid="YES">ab</checksum><location href="a.rpm"/>%s</package>`
	cases := map[string]struct{ doc, want string }{
		"unclosed":      {head + strings.Replace(pkg, "%s", "", 1), "unexpected EOF"},
		"bad number":    {head + strings.Replace(pkg, "%s", `<size package="x"/>`, 1) + "</metadata>", `size package "x"`},
		"count":         {strings.Replace(head, `"1"`, `"2"`, 1) + strings.Replace(pkg, "%s", "", 1) + "</metadata>", "says 2 packages"},
		"wrong root":    {`<filelists xmlns="http://linux.duke.edu/metadata/filelists"/>`, "root element"},
		"no location":   {head + strings.Replace(strings.Replace(pkg, `<location href="a.rpm"/>`, "", 1), "%s", "", 1) + "</metadata>", "lacks"},
		"empty":         {"", "no <metadata>"},
		"bad entity":    {head + strings.Replace(pkg, "%s", "<summary>&bogus;</summary>", 1) + "</metadata>", "line 1"},
		"trailing junk": {head + strings.Replace(pkg, "%s", "", 1) + "</metadata><metadata>", "after the document end"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := DecodePrimary(strings.NewReader(c.doc))
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "primary.xml: ") {
				t.Fatalf("DecodePrimary error %v, want one starting primary.xml: and containing %q", err, c.want)
			}
		})
	}
}

func editFile(t *testing.T, path, old, new string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || !bytes.Contains(b, []byte(old)) {
		t.Fatalf("%s lacks %q (%v)", path, old, err)
	}
	if err := os.WriteFile(path, bytes.Replace(b, []byte(old), []byte(new), 1), 0o644); err != nil {
		t.Fatal(err)
	}
}

func copyTree(t testing.TB, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}
