package source

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// writeRepo writes repodata/repomd.xml listing primary (gzipped) into dir.
func writeRepo(t testing.TB, dir string, primary []byte) {
	t.Helper()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(primary)
	zw.Close()
	sum := sha256.Sum256(gz.Bytes())
	open := sha256.Sum256(primary)
	name := hex.EncodeToString(sum[:]) + "-primary.xml.gz"
	if err := os.MkdirAll(filepath.Join(dir, "repodata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "repodata", name), gz.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	writeRepomd(t, dir, fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<repomd xmlns="http://linux.duke.edu/metadata/repo" xmlns:rpm="http://linux.duke.edu/metadata/rpm">
  <revision>1</revision>
  <data type="primary">
    <checksum type="sha256">%x</checksum>
    <open-checksum type="sha256">%x</open-checksum>
    <location href="repodata/%s"/>
    <timestamp>1</timestamp>
    <size>%d</size>
    <open-size>%d</open-size>
  </data>
</repomd>
`, sum, open, name, gz.Len(), len(primary)))
}

func writeRepomd(t testing.TB, dir, repomd string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Join(dir, "repodata"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), []byte(repomd), 0o644); err != nil {
		t.Fatal(err)
	}
}

// primaryXML is a primary.xml of one source package at location href with
// the given xml:base ("" for none).
func primaryXML(href, base string) []byte {
	attr := ""
	if base != "" {
		attr = fmt.Sprintf(` xml:base="%s"`, base)
	}
	return []byte(fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="1">
<package type="rpm">
  <name>kernel</name>
  <arch>src</arch>
  <version epoch="0" ver="4.18.0" rel="477.27.1.el8_8"/>
  <checksum type="sha256" pkgid="YES">%s</checksum>
  <summary>The Linux kernel</summary>
  <description>x</description>
  <size package="100" installed="0" archive="0"/>
  <location%s href="%s"/>
  <format><rpm:license>GPLv2</rpm:license></format>
</package>
</metadata>
`, strings.Repeat("ab", 32), attr, href))
}

func listErr(t testing.TB, url string, opts Options) error {
	t.Helper()
	_, err := newSource(t, config.Source{Name: "up", Kind: config.SourceRPMMD, URL: url}, opts).List(context.Background())
	return err
}

func TestHostileLocationsRefused(t *testing.T) {
	srv, _ := serveDir(t, t.TempDir())
	for _, tc := range []struct{ href, base string }{
		{"../../etc/passwd", ""},
		{"Packages/../../../etc/passwd", ""},
		{"/etc/passwd", ""},
		{"https://evil.example/kernel-4.18.0-477.27.1.el8_8.src.rpm", ""},
		{"//evil.example/kernel.src.rpm", ""},
		{"file:///etc/passwd", ""},
		{"kernel.src.rpm", "https://evil.example/"},
		{"kernel.src.rpm", srv.URL + "/../"},
		{`Packages\..\..\etc\passwd`, ""},
	} {
		dir := t.TempDir()
		writeRepo(t, dir, primaryXML(tc.href, tc.base))
		wantBadInput(t, listErr(t, "file://"+dir, Options{}), ErrLocation)
		// The same metadata served over HTTP.
		srv, _ := serveDir(t, dir)
		wantBadInput(t, listErr(t, srv.URL+"/", Options{}), ErrLocation)
	}
	// A relative location (and xml:base naming the repository itself) is fine.
	dir := t.TempDir()
	writeRepo(t, dir, primaryXML("Packages/k/kernel-4.18.0-477.27.1.el8_8.src.rpm", ""))
	if err := listErr(t, "file://"+dir, Options{}); err != nil {
		t.Fatal(err)
	}
	own, _ := serveDir(t, dir)
	writeRepo(t, dir, primaryXML("kernel-4.18.0-477.27.1.el8_8.src.rpm", own.URL+"/"))
	if err := listErr(t, own.URL, Options{}); err != nil {
		t.Fatal(err)
	}
	// A hostile repomd.xml location for primary.
	writeRepomd(t, dir, strings.Replace(readFile(t, filepath.Join(dir, "repodata", "repomd.xml")), `href="repodata/`, `href="../../repodata/`, 1))
	wantBadInput(t, listErr(t, "file://"+dir, Options{}), ErrLocation)
}

func readFile(t testing.TB, p string) string {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestHugeOrMalformedMetadataRefused(t *testing.T) {
	dir := t.TempDir()
	// 4 MiB of description compress to a few KiB: the uncompressed limit holds.
	big := bytes.Replace(primaryXML("k.src.rpm", ""), []byte("<description>x"), []byte("<description>"+strings.Repeat("x", 4<<20)), 1)
	writeRepo(t, dir, big)
	wantBadInput(t, listErr(t, "file://"+dir, Options{MaxMetadata: 1 << 20}), ErrTooLarge)

	// repomd.xml claiming a huge primary is refused before reading it.
	md := readFile(t, filepath.Join(dir, "repodata", "repomd.xml"))
	md = regexpReplace(md, `<size>\d+</size>`, "<size>1099511627776</size>")
	writeRepomd(t, dir, md)
	wantBadInput(t, listErr(t, "file://"+dir, Options{}), ErrTooLarge)

	// A huge repomd.xml itself, served over HTTP.
	writeRepomd(t, dir, "<repomd>"+strings.Repeat(" ", 2<<20)+"</repomd>")
	srv, _ := serveDir(t, dir)
	wantBadInput(t, listErr(t, srv.URL, Options{MaxMetadata: 1 << 20}), ErrTooLarge)

	for name, primary := range map[string]string{
		"not XML":       "this is not xml",
		"cut short":     string(primaryXML("k.src.rpm", ""))[:300],
		"no location":   strings.Replace(string(primaryXML("k.src.rpm", "")), `<location href="k.src.rpm"/>`, "", 1),
		"bad checksum":  strings.Replace(string(primaryXML("k.src.rpm", "")), strings.Repeat("ab", 32), "zz", 1),
		"md5 checksum":  strings.Replace(string(primaryXML("k.src.rpm", "")), `type="sha256" pkgid`, `type="md5" pkgid`, 1),
		"wrong element": `<?xml version="1.0"?><repomd/>`,
	} {
		dir := t.TempDir()
		writeRepo(t, dir, []byte(primary))
		err := listErr(t, "file://"+dir, Options{})
		wantBadInput(t, err, ErrMalformed)
		t.Logf("%s: %v", name, err)
	}
	writeRepomd(t, dir, "<repomd><data")
	wantBadInput(t, listErr(t, "file://"+dir, Options{}), ErrMalformed)

	// primary.xml that does not match repomd.xml's checksum.
	dir = t.TempDir()
	writeRepo(t, dir, primaryXML("k.src.rpm", ""))
	files, _ := filepath.Glob(filepath.Join(dir, "repodata", "*-primary.xml.gz"))
	data := []byte(readFile(t, files[0]))
	data[len(data)-5] ^= 1
	os.WriteFile(files[0], data, 0o644)
	wantBadInput(t, listErr(t, "file://"+dir, Options{}), ErrChecksum)
}

// Each refused package leaves the store empty.
func TestFetchRefusesBadPackages(t *testing.T) {
	dir := t.TempDir()
	up := sign.NewSigner(testKey(t, "upstream"))
	intruder := sign.NewSigner(testKey(t, "intruder"))
	for _, n := range []string{"good", "tampered", "wrongkey"} {
		if err := up.SignRPM(buildSRPM(t, dir, n, "1.0", "1")); err != nil {
			t.Fatal(err)
		}
	}
	buildSRPM(t, dir, "unsigned", "1.0", "1")
	if err := intruder.SignRPM(filepath.Join(dir, "wrongkey-1.0-1.el8.src.rpm")); err != nil {
		t.Fatal(err)
	}
	index(t, dir)
	tampered := filepath.Join(dir, "tampered-1.0-1.el8.src.rpm")
	data := []byte(readFile(t, tampered))
	data[len(data)-10] ^= 1
	os.WriteFile(tampered, data, 0o644)

	// Truncating server: the package's body ends at half its length.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/good-") {
			data, _ := os.ReadFile(filepath.Join(dir, r.URL.Path))
			w.Write(data[:len(data)/2])
			return
		}
		http.FileServer(http.Dir(dir)).ServeHTTP(w, r)
	}))
	defer srv.Close()
	src := newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{})
	pkgs := list(t, src)
	st := openStore(t)
	tmp := t.TempDir()
	fetch := func(p Package, opts FetchOptions) error {
		opts.TempDir = tmp
		_, err := Fetch(context.Background(), src, p, st, opts)
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Errorf("left %v in the temporary folder", left)
		}
		return err
	}
	keys := FetchOptions{Keys: upstreamKeys(t)}
	wantBadInput(t, fetch(find(t, pkgs, "good"), keys), ErrTruncated)
	wantBadInput(t, fetch(find(t, pkgs, "tampered"), keys), ErrChecksum)
	wantBadInput(t, fetch(find(t, pkgs, "unsigned"), keys), ErrSignature)
	wantBadInput(t, fetch(find(t, pkgs, "wrongkey"), keys), ErrSignature)

	lying := find(t, pkgs, "wrongkey")
	lying.NEVRA.Name = "kernel"
	wantBadInput(t, fetch(lying, FetchOptions{Unsigned: true}), ErrMismatch)
	wrongSum := find(t, pkgs, "unsigned")
	wrongSum.Checksum.Hex = strings.Repeat("0", 64)
	wantBadInput(t, fetch(wrongSum, FetchOptions{Unsigned: true}), ErrChecksum)
	small := find(t, pkgs, "unsigned")
	wantBadInput(t, fetch(small, FetchOptions{Unsigned: true, MaxSize: 100}), ErrTooLarge)
	small.Size = -1 // unknown size: the stream itself is cut at the limit
	wantBadInput(t, fetch(small, FetchOptions{Unsigned: true, MaxSize: 100}), ErrTooLarge)
	hostile := find(t, pkgs, "unsigned")
	hostile.Location = "../../etc/passwd"
	wantBadInput(t, fetch(hostile, FetchOptions{Unsigned: true}), ErrLocation)

	if keys := storedKeys(t, st); len(keys) != 0 {
		t.Fatalf("refused packages stored: %v", keys)
	}
	// The unsigned package is stored when unsigned packages are allowed.
	if err := fetch(find(t, pkgs, "unsigned"), FetchOptions{Unsigned: true}); err != nil {
		t.Fatal(err)
	}
}
