package serve_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
)

// backends returns a fresh store of each kind repo serve runs over.
func backends(t *testing.T) map[string]store.Store {
	d, err := store.OpenDir(filepath.Join(t.TempDir(), "repo"))
	if err != nil {
		t.Fatal(err)
	}
	fake := s3mem.New()
	fake.CreateBucket("repo")
	fakeSrv := httptest.NewServer(gofakes3.New(fake).Server())
	t.Cleanup(fakeSrv.Close)
	endpoint, ak, sk, bucket := testutil.StartVersityGW(t)
	open := func(endpoint, ak, sk, bucket string) store.Store {
		s, err := store.OpenS3(t.Context(), store.S3Config{
			Bucket: bucket, Prefix: "el9", Endpoint: endpoint, Region: "us-east-1", PathStyle: true,
			Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
		})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return map[string]store.Store{
		"dir":       d,
		"gofakes3":  open(fakeSrv.URL, "ak", "sk", "repo"),
		"versitygw": open(endpoint, ak, sk, bucket),
		"spooled":   unseekable{d},
	}
}

// unseekable hides a store's seeking and range reads, as a backend without
// them would, so the handler spools objects to a temporary file.
type unseekable struct{ store.Store }

func (u unseekable) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	rc, info, err := u.Store.Get(ctx, key)
	if err != nil {
		return nil, info, err
	}
	return struct {
		io.Reader
		io.Closer
	}{rc, rc}, info, nil
}

func put(t *testing.T, s store.Store, key, content string) store.Info {
	t.Helper()
	info, err := s.Put(t.Context(), key, strings.NewReader(content))
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// do sends one request to the handler and returns the response.
func do(t *testing.T, h http.Handler, method, path string, hdr ...string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, "/", nil)
	req.URL.Path = path // unclean paths reach the handler as sent
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestContentTypes(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := serve.Handler(s, zerolog.Nop())
			for key, want := range map[string]string{
				"repodata/repomd.xml":                       "application/xml",
				"repodata/repomd.xml.asc":                   "application/pgp-signature",
				"repodata/0a1b-primary.xml.gz":              "application/gzip",
				"repodata/0a1b-filelists.xml.zst":           "application/zstd",
				"Packages/k/kernel-5.14.0-1.el9.x86_64.rpm": "application/x-rpm",
				"RPM-GPG-KEY-kabiforge":                     "application/pgp-keys",
				"kabiforge.repo":                            "text/plain; charset=utf-8",
				"index.html":                                "text/html; charset=utf-8",
				"SECURE-BOOT-KEY-el9.der":                   "application/pkix-cert",
				"notes.bin":                                 "application/octet-stream",
			} {
				put(t, s, key, "content of "+key)
				resp := do(t, h, "GET", "/"+key)
				if got := body(t, resp); resp.StatusCode != 200 || got != "content of "+key {
					t.Errorf("GET /%s = %d %q", key, resp.StatusCode, got)
				}
				if got := resp.Header.Get("Content-Type"); got != want {
					t.Errorf("GET /%s Content-Type = %q, want %q", key, got, want)
				}
				if enc := resp.Header.Get("Content-Encoding"); enc != "" {
					t.Errorf("GET /%s Content-Encoding = %q; compressed metadata must be served as stored", key, enc)
				}
			}
		})
	}
}

func TestRange(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := serve.Handler(s, zerolog.Nop())
			put(t, s, "kernel.rpm", "0123456789")
			for _, tc := range []struct {
				rng, want, contentRange string
				status                  int
			}{
				{"bytes=2-5", "2345", "bytes 2-5/10", 206},
				{"bytes=7-", "789", "bytes 7-9/10", 206},
				{"bytes=-3", "789", "bytes 7-9/10", 206},
				{"bytes=20-30", "", "bytes */10", 416},
			} {
				resp := do(t, h, "GET", "/kernel.rpm", "Range", tc.rng)
				got := body(t, resp)
				if resp.StatusCode != tc.status || resp.Header.Get("Content-Range") != tc.contentRange {
					t.Errorf("Range %s: %d %q, want %d %q", tc.rng, resp.StatusCode, resp.Header.Get("Content-Range"), tc.status, tc.contentRange)
				}
				if tc.status == 206 && got != tc.want {
					t.Errorf("Range %s: body %q, want %q", tc.rng, got, tc.want)
				}
			}
			resp := do(t, h, "GET", "/kernel.rpm", "Range", "bytes=0-1,8-9")
			got := body(t, resp)
			if resp.StatusCode != 206 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "multipart/byteranges") ||
				!strings.Contains(got, "\r\n01\r\n") || !strings.Contains(got, "\r\n89\r\n") {
				t.Errorf("two ranges: %d %s %q", resp.StatusCode, resp.Header.Get("Content-Type"), got)
			}
		})
	}
}

func TestETag(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := serve.Handler(s, zerolog.Nop())
			put(t, s, "repodata/repomd.xml", "<repomd>1</repomd>")
			first := do(t, h, "GET", "/repodata/repomd.xml")
			tag := first.Header.Get("ETag")
			if !strings.HasPrefix(tag, `"`) || !strings.HasSuffix(tag, `"`) || len(tag) < 10 {
				t.Fatalf("ETag = %q, want a quoted entity tag", tag)
			}
			if cc := first.Header.Get("Cache-Control"); cc != "no-cache" {
				t.Errorf("repomd.xml Cache-Control = %q, want no-cache", cc)
			}
			again := do(t, h, "GET", "/repodata/repomd.xml", "If-None-Match", tag)
			if again.StatusCode != http.StatusNotModified || body(t, again) != "" {
				t.Errorf("If-None-Match with the current ETag: %d, want 304 and no body", again.StatusCode)
			}
			put(t, s, "repodata/repomd.xml", "<repomd>2</repomd>")
			changed := do(t, h, "GET", "/repodata/repomd.xml", "If-None-Match", tag)
			if got := body(t, changed); changed.StatusCode != 200 || got != "<repomd>2</repomd>" || changed.Header.Get("ETag") == tag {
				t.Errorf("If-None-Match after a publish: %d %q ETag %s, want 200, the new content and a new ETag", changed.StatusCode, got, changed.Header.Get("ETag"))
			}
		})
	}
}

func TestLastModified(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := serve.Handler(s, zerolog.Nop())
			put(t, s, "Packages/a.rpm", "rpm")
			resp := do(t, h, "GET", "/Packages/a.rpm")
			lm, err := http.ParseTime(resp.Header.Get("Last-Modified"))
			if err != nil || time.Since(lm) > time.Hour {
				t.Fatalf("Last-Modified = %q (%v), want the write time", resp.Header.Get("Last-Modified"), err)
			}
			same := do(t, h, "GET", "/Packages/a.rpm", "If-Modified-Since", lm.Format(http.TimeFormat))
			if same.StatusCode != http.StatusNotModified {
				t.Errorf("If-Modified-Since = Last-Modified: %d, want 304", same.StatusCode)
			}
			older := do(t, h, "GET", "/Packages/a.rpm", "If-Modified-Since", lm.Add(-time.Hour).Format(http.TimeFormat))
			if older.StatusCode != 200 || body(t, older) != "rpm" {
				t.Errorf("If-Modified-Since an hour earlier: %d, want 200 with the content", older.StatusCode)
			}
		})
	}
}

func TestHead(t *testing.T) {
	for name, s := range backends(t) {
		t.Run(name, func(t *testing.T) {
			h := serve.Handler(s, zerolog.Nop())
			put(t, s, "kernel.rpm", "0123456789")
			resp := do(t, h, "HEAD", "/kernel.rpm")
			if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "10" || body(t, resp) != "" {
				t.Errorf("HEAD: %d Content-Length %q, want 200, 10 and no body", resp.StatusCode, resp.Header.Get("Content-Length"))
			}
			if resp := do(t, h, "HEAD", "/missing.rpm"); resp.StatusCode != 404 {
				t.Errorf("HEAD of a missing key: %d, want 404", resp.StatusCode)
			}
		})
	}
}

// No request reads outside the store, however its path is spelled; the
// handler refuses to write.
func TestNoEscapeNoWrites(t *testing.T) {
	outer := t.TempDir()
	os.WriteFile(filepath.Join(outer, "secret"), []byte("secret"), 0o644)
	s, _ := store.OpenDir(filepath.Join(outer, "repo"))
	put(t, s, "a/inside", "inside")
	h := serve.Handler(s, zerolog.Nop())
	for _, p := range []string{"/../secret", "/a/../../secret", "/a/../inside", "//secret", "/a//inside", "/./a/inside", `/a\..\..\secret`, "/../", "/a/../"} {
		resp := do(t, h, "GET", p)
		if got := body(t, resp); resp.StatusCode != http.StatusBadRequest || strings.Contains(got, "secret") {
			t.Errorf("GET %q = %d %q, want 400", p, resp.StatusCode, got)
		}
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/%2e%2e/secret")
	if err != nil {
		t.Fatal(err)
	}
	if got := body(t, resp); resp.StatusCode != http.StatusBadRequest || strings.Contains(got, "secret") {
		t.Errorf("GET /%%2e%%2e/secret over HTTP = %d %q, want 400", resp.StatusCode, got)
	}
	for _, m := range []string{"PUT", "POST", "DELETE", "PATCH"} {
		resp := do(t, h, m, "/a/inside")
		if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("%s = %d Allow %q, want 405 and GET, HEAD", m, resp.StatusCode, resp.Header.Get("Allow"))
		}
	}
	if got := body(t, do(t, h, "GET", "/a/inside")); got != "inside" {
		t.Errorf("content changed by a refused request: %q", got)
	}
}

func TestIndex(t *testing.T) {
	s, _ := store.OpenDir(t.TempDir())
	for _, k := range []string{"repodata/repomd.xml", "repodata/x-primary.xml.gz", "Packages/k/kernel.rpm", "kabiforge.repo", "<script>.rpm"} {
		put(t, s, k, k)
	}
	h := serve.Handler(s, zerolog.Nop())
	root := body(t, do(t, h, "GET", "/"))
	for _, want := range []string{`href="Packages/"`, `href="repodata/"`, `href="kabiforge.repo"`, "&lt;script&gt;.rpm"} {
		if !strings.Contains(root, want) {
			t.Errorf("index of / lacks %s:\n%s", want, root)
		}
	}
	if strings.Contains(root, "<script>") || strings.Contains(root, "repomd.xml") {
		t.Errorf("index of / is unescaped or not one level deep:\n%s", root)
	}
	if got := body(t, do(t, h, "GET", "/repodata/")); !strings.Contains(got, `href="x-primary.xml.gz"`) {
		t.Errorf("index of /repodata/ = %s", got)
	}
	if resp := do(t, h, "GET", "/nothing/"); resp.StatusCode != 404 {
		t.Errorf("index of a missing folder: %d, want 404", resp.StatusCode)
	}
}

// TestFolderPage: a folder with an index.html (the compatibility page a
// publish writes) serves it as HTML; a folder without one is listed.
func TestFolderPage(t *testing.T) {
	s, _ := store.OpenDir(t.TempDir())
	put(t, s, "el9/index.html", "<p>page</p>")
	put(t, s, "el9/repodata/repomd.xml", "x")
	h := serve.Handler(s, zerolog.Nop())
	resp := do(t, h, "GET", "/el9/")
	if got := body(t, resp); got != "<p>page</p>" || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Errorf("/el9/ = %q (%s), want the page as HTML", got, resp.Header.Get("Content-Type"))
	}
	if got := body(t, do(t, h, "GET", "/el9/repodata/")); !strings.Contains(got, `href="repomd.xml"`) {
		t.Errorf("/el9/repodata/ = %s, want a listing", got)
	}
}

func TestAccessLog(t *testing.T) {
	s, _ := store.OpenDir(t.TempDir())
	put(t, s, "kernel.rpm", "0123456789")
	var logBuf bytes.Buffer
	h := serve.Handler(s, zerolog.New(&logBuf))
	do(t, h, "GET", "/kernel.rpm", "Range", "bytes=0-3")
	do(t, h, "GET", "/missing")
	var lines []map[string]any
	for line := range strings.Lines(logBuf.String()) {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		lines = append(lines, m)
	}
	if len(lines) != 2 {
		t.Fatalf("%d log lines, want 2:\n%s", len(lines), logBuf.String())
	}
	got := fmt.Sprint(lines[0]["method"], " ", lines[0]["path"], " ", lines[0]["status"], " ", lines[0]["bytes"], " ", lines[0]["range"])
	if want := "GET /kernel.rpm 206 4 bytes=0-3"; got != want {
		t.Errorf("access log = %q, want %q", got, want)
	}
	if lines[1]["status"] != float64(404) || lines[1]["took"] == nil {
		t.Errorf("access log of a miss = %v, want status 404 and a duration", lines[1])
	}
}

// TestNoSymlinkOutOfTheRoot links files and folders inside the served folder
// to places outside it (a secret beside it, /etc/passwd, a folder above):
// none is served; a link that stays inside is, and a named pipe is refused
// without hanging the request.
func TestNoSymlinkOutOfTheRoot(t *testing.T) {
	outer := t.TempDir()
	os.WriteFile(filepath.Join(outer, "secret"), []byte("secret"), 0o644)
	root := filepath.Join(outer, "repo")
	s, _ := store.OpenDir(root)
	put(t, s, "a/inside", "inside")
	for link, target := range map[string]string{
		"passwd":      "/etc/passwd",
		"a/secret":    filepath.Join(outer, "secret"),
		"a/relsecret": "../../secret",
		"up":          outer,
		"a/same":      "inside",
	} {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(root, "a", "fifo"), 0o644); err != nil {
		t.Fatal(err)
	}
	h := serve.Handler(s, zerolog.Nop())
	for _, p := range []string{"/passwd", "/a/secret", "/a/relsecret", "/up/secret", "/a/fifo"} {
		resp := do(t, h, "GET", p)
		if got := body(t, resp); resp.StatusCode != http.StatusNotFound || strings.Contains(got, "secret") || strings.Contains(got, "root:") {
			t.Errorf("GET %s = %d %q, want 404", p, resp.StatusCode, got)
		}
	}
	if got := body(t, do(t, h, "GET", "/a/same")); got != "inside" {
		t.Errorf("a link inside the root: %q, want inside", got)
	}
}
