package store_test

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/store"
	"github.com/kabiforge/kabiforge/repo/store/storetest"
)

// s3Server is an S3-protocol endpoint with one bucket.
type s3Server struct {
	endpoint, accessKey, secretKey, bucket string
}

func startVersityGW(t *testing.T) s3Server {
	e, ak, sk, b := testutil.StartVersityGW(t)
	return s3Server{e, ak, sk, b}
}

func startGoFakeS3(t *testing.T) s3Server {
	backend := s3mem.New()
	if err := backend.CreateBucket("fake"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return s3Server{srv.URL, "ak", "sk", "fake"}
}

// smallParts makes multipart uploads start at S3's minimum part size and
// listings page every 7 keys, so the contract exercises both quickly.
func (srv s3Server) config(prefix string) store.S3Config {
	return store.S3Config{
		Bucket:             srv.bucket,
		Prefix:             prefix,
		Endpoint:           srv.endpoint,
		Region:             "us-east-1",
		PathStyle:          true,
		PartSize:           store.MinPartSize,
		MultipartThreshold: store.MinPartSize,
		ListPageSize:       7,
		Credentials:        credentials.NewStaticCredentialsProvider(srv.accessKey, srv.secretKey, ""),
	}
}

func (srv s3Server) open(t *testing.T, prefix string) *store.S3 {
	t.Helper()
	s, err := store.OpenS3(t.Context(), srv.config(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// perTestPrefix gives every subtest its own empty corner of the bucket.
func (srv s3Server) contract(t *testing.T, opts storetest.Options) {
	var n atomic.Int32
	storetest.Run(t, func(t *testing.T) store.Store {
		return srv.open(t, fmt.Sprintf("contract/%d", n.Add(1)))
	}, opts)
}

func TestS3ContractVersityGW(t *testing.T) {
	startVersityGW(t).contract(t, storetest.Options{})
}

// gofakes3 is in-process and fast, but completes multipart uploads
// unconditionally; publish never relies on that for repomd.xml (small).
func TestS3ContractGoFakeS3(t *testing.T) {
	startGoFakeS3(t).contract(t, storetest.Options{IgnoresConditionalMultipart: true})
}

// Objects above the threshold go up in parts: S3 marks a multipart ETag with
// "-<parts>".
func TestS3MultipartUpload(t *testing.T) {
	srv := startVersityGW(t)
	s := srv.open(t, "mp")
	data := make([]byte, 2*store.MinPartSize+1)
	rand.Read(data)
	info, err := s.Put(t.Context(), "kernel.rpm", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(info.Version, `-3"`) || info.Size != int64(len(data)) {
		t.Errorf("Put = %+v, want a 3-part multipart ETag and size %d", info, len(data))
	}
	small, err := s.Put(t.Context(), "repomd.xml", bytes.NewReader(data[:store.MinPartSize]))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(small.Version, "-") {
		t.Errorf("an object at the threshold was uploaded in parts: ETag %s", small.Version)
	}
}

// Range reads are what `repo serve` uses for S3; they refuse a changed object.
func TestS3GetRange(t *testing.T) {
	s := startVersityGW(t).open(t, "")
	info, err := s.Put(t.Context(), "a", strings.NewReader("0123456789"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		off, n int64
		want   string
	}{{0, 3, "012"}, {7, -1, "789"}, {9, 1, "9"}} {
		rc, err := s.GetRange(t.Context(), "a", info.Version, tc.off, tc.n)
		if err != nil {
			t.Fatalf("GetRange(%d, %d): %v", tc.off, tc.n, err)
		}
		var b bytes.Buffer
		b.ReadFrom(rc)
		rc.Close()
		if b.String() != tc.want {
			t.Errorf("GetRange(%d, %d) = %q, want %q", tc.off, tc.n, b.String(), tc.want)
		}
	}
	s.Put(t.Context(), "a", strings.NewReader("changed"))
	if _, err := s.GetRange(t.Context(), "a", info.Version, 0, 1); !errors.Is(err, store.ErrConflict) {
		t.Errorf("GetRange of a replaced object error = %v, want ErrConflict", err)
	}
}

// Open reads the URL's endpoint and options and takes credentials from the
// AWS environment; objects land under the URL's prefix.
func TestOpenS3URL(t *testing.T) {
	srv := startVersityGW(t)
	t.Setenv("AWS_ACCESS_KEY_ID", srv.accessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", srv.secretKey)
	t.Setenv("AWS_CONFIG_FILE", "/nonexistent")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
	u := fmt.Sprintf("s3://%s/repos/el9?endpoint=%s&region=us-east-1&path-style=true&list-page-size=2", srv.bucket, url.QueryEscape(srv.endpoint))
	s, err := store.Open(t.Context(), u)
	if err != nil {
		t.Fatalf("Open(%s): %v", u, err)
	}
	if _, err := s.Put(t.Context(), "repodata/repomd.xml", strings.NewReader("x")); err != nil {
		t.Fatal(err)
	}
	root := srv.open(t, "")
	if _, err := root.Stat(t.Context(), "repos/el9/repodata/repomd.xml"); err != nil {
		t.Errorf("object not under the URL's prefix: %v", err)
	}
}

func TestOpenURLErrors(t *testing.T) {
	for _, tc := range []struct{ url, want string }{
		{"ftp://x/y", `unknown scheme "ftp"`},
		{"s3://b/p?endpont=http://x", `unknown parameter "endpont"`},
		{"s3://b?part-size=1024", "below S3's minimum"},
		{"s3://b?path-style=maybe", "path-style"},
		{"s3:///p", "no bucket"},
		{"s3://AKIDSECRET:hunter2@b/p", "credentials do not belong in the URL"},
	} {
		_, err := store.Open(context.Background(), tc.url)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Open(%q) error = %v, want one containing %q", tc.url, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error reveals the secret: %v", tc.url, err)
		}
	}
}

// withoutConditionalWrites puts a proxy in front of a real server that
// answers every conditional write the way a server lacking the feature does:
// 501 NotImplemented.
func withoutConditionalWrites(t *testing.T, srv s3Server) s3Server {
	target, _ := url.Parse(srv.endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if (r.Method == http.MethodPut || r.Method == http.MethodPost) && (r.Header.Get("If-None-Match") != "" || r.Header.Get("If-Match") != "") {
			w.WriteHeader(http.StatusNotImplemented)
			fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code><Message>A header you provided implies functionality that is not implemented</Message></Error>`)
			return
		}
		proxy.ServeHTTP(w, r)
	})
	p := httptest.NewServer(h)
	t.Cleanup(p.Close)
	srv.endpoint = p.URL
	return srv
}

// Against a server without conditional writes the store refuses
// PutIfAbsent and CompareAndSwap with ErrUnsupported and writes nothing,
// rather than silently degrading to a last-writer-wins Put.
func TestS3WithoutConditionalWrites(t *testing.T) {
	srv := withoutConditionalWrites(t, startVersityGW(t))
	s := srv.open(t, "")
	ctx := t.Context()
	base, err := s.Put(ctx, "repomd.xml", strings.NewReader("base"))
	if err != nil {
		t.Fatalf("plain Put through the proxy: %v", err)
	}
	big := make([]byte, store.MinPartSize+1)
	for name, write := range map[string]func() error{
		"PutIfAbsent":           func() error { _, err := s.PutIfAbsent(ctx, "new", strings.NewReader("x")); return err },
		"multipart PutIfAbsent": func() error { _, err := s.PutIfAbsent(ctx, "new", bytes.NewReader(big)); return err },
		"CompareAndSwap": func() error {
			_, err := s.CompareAndSwap(ctx, "repomd.xml", base.Version, strings.NewReader("x"))
			return err
		},
	} {
		err := write()
		if !errors.Is(err, store.ErrUnsupported) {
			t.Errorf("%s error = %v, want ErrUnsupported", name, err)
		}
	}
	if _, err := s.Stat(ctx, "new"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("a refused PutIfAbsent wrote its key: Stat error = %v", err)
	}
	if info, _ := s.Stat(ctx, "repomd.xml"); info.Version != base.Version {
		t.Errorf("a refused CompareAndSwap changed the object: version %s, want %s", info.Version, base.Version)
	}
}

// ignoringConditionalWrites puts a proxy in front of a real server that
// drops If-None-Match and If-Match (testutil.IgnoringConditionalWrites).
func ignoringConditionalWrites(t *testing.T, srv s3Server) s3Server {
	srv.endpoint = testutil.IgnoringConditionalWrites(t, srv.endpoint, srv.accessKey, srv.secretKey)
	return srv
}

func TestS3CheckConditionalWrites(t *testing.T) {
	real := startVersityGW(t)
	for _, tc := range []struct {
		name string
		srv  s3Server
		ok   bool
	}{
		{"versitygw", real, true},
		{"gofakes3", startGoFakeS3(t), true},
		{"501 NotImplemented", withoutConditionalWrites(t, real), false},
		{"headers ignored", ignoringConditionalWrites(t, real), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := tc.srv.open(t, "probe")
			err := s.CheckConditionalWrites(t.Context())
			if tc.ok && err != nil {
				t.Errorf("CheckConditionalWrites = %v, want nil", err)
			}
			t.Logf("CheckConditionalWrites: %v", err)
			if !tc.ok && !errors.Is(err, store.ErrUnsupported) {
				t.Errorf("CheckConditionalWrites = %v, want ErrUnsupported", err)
			}
			for info, err := range s.List(t.Context(), "") {
				t.Errorf("the probe left %+v behind (%v)", info, err)
			}
		})
	}
}

// A wrong secret makes writes fail with the server's answer, and the secret
// appears in no error.
func TestS3WrongCredentialsDoNotLeak(t *testing.T) {
	srv := startVersityGW(t)
	srv.secretKey = "hunter2-not-the-secret"
	s := srv.open(t, "")
	_, err := s.Put(t.Context(), "a", strings.NewReader("x"))
	if err == nil {
		t.Fatal("Put with a wrong secret succeeded")
	}
	if strings.Contains(err.Error(), "hunter2") || !strings.Contains(err.Error(), "put a") {
		t.Errorf("error = %v; want the operation and key, without the secret", err)
	}
	_, err = s.PutIfAbsent(t.Context(), "a", strings.NewReader("x"))
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrUnsupported) {
		t.Errorf("an authentication failure reads as %v", err)
	}
}

// A part that cannot be uploaded fails the write, and the upload is aborted:
// no object appears and no parts are left on the server.
func TestS3FailedPartAbortsTheUpload(t *testing.T) {
	srv := startVersityGW(t)
	target, _ := url.Parse(srv.endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && r.URL.Query().Get("partNumber") == "2" {
			http.Error(w, "disk full", http.StatusInsufficientStorage)
			return
		}
		proxy.ServeHTTP(w, r)
	}))
	defer p.Close()
	failing := srv
	failing.endpoint = p.URL
	s := failing.open(t, "abort")
	big := make([]byte, 3*store.MinPartSize)
	if _, err := s.PutIfAbsent(t.Context(), "kernel.rpm", bytes.NewReader(big)); err == nil || !strings.Contains(err.Error(), "upload part 2") {
		t.Fatalf("PutIfAbsent with a failing part: %v, want an error naming part 2", err)
	}
	if _, err := s.Stat(t.Context(), "kernel.rpm"); !errors.Is(err, store.ErrNotExist) {
		t.Errorf("a failed multipart upload left an object: %v", err)
	}
	client := s3.New(s3.Options{
		BaseEndpoint: aws.String(srv.endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(srv.accessKey, srv.secretKey, ""),
	})
	ups, err := client.ListMultipartUploads(t.Context(), &s3.ListMultipartUploadsInput{Bucket: aws.String(srv.bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if len(ups.Uploads) != 0 {
		t.Errorf("%d multipart uploads left after a failure, want 0", len(ups.Uploads))
	}
}

// countingProbes puts a plain reverse proxy in front of srv that records
// the distinct probe keys written through it.
func countingProbes(t *testing.T, srv s3Server) (s3Server, func() int) {
	target, _ := url.Parse(srv.endpoint)
	proxy := httputil.NewSingleHostReverseProxy(target)
	var mu sync.Mutex
	keys := map[string]bool{}
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/.kabiforge-probe/") {
			mu.Lock()
			keys[r.URL.Path] = true
			mu.Unlock()
		}
		proxy.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	srv.endpoint = p.URL
	return srv, func() int { mu.Lock(); defer mu.Unlock(); return len(keys) }
}

// The store checks an endpoint's conditional writes before its first
// PutIfAbsent or CompareAndSwap, once: on versitygw and gofakes3, which
// honour them, a run of conditional writes works after a single probe; a
// server that ignores If-Match and If-None-Match (a real versitygw behind a
// proxy stripping them) is refused with an error naming the endpoint, and
// nothing is written or overwritten, every time.
func TestS3ConditionalWritesCheckedOncePerEndpoint(t *testing.T) {
	real := startVersityGW(t)
	for name, srv := range map[string]s3Server{"versitygw": real, "gofakes3": startGoFakeS3(t)} {
		t.Run(name, func(t *testing.T) {
			srv, probes := countingProbes(t, srv)
			s := srv.open(t, "once")
			ctx := t.Context()
			var wg sync.WaitGroup
			for i := range 4 {
				wg.Go(func() {
					if _, err := s.PutIfAbsent(ctx, fmt.Sprint("k", i), strings.NewReader("x")); err != nil {
						t.Errorf("PutIfAbsent: %v", err)
					}
				})
			}
			wg.Wait()
			info, _ := s.Stat(ctx, "k0")
			if _, err := s.CompareAndSwap(ctx, "k0", info.Version, strings.NewReader("y")); err != nil {
				t.Errorf("CompareAndSwap: %v", err)
			}
			if _, err := s.PutIfAbsent(ctx, "k0", strings.NewReader("z")); !errors.Is(err, store.ErrConflict) {
				t.Errorf("PutIfAbsent over k0 = %v, want ErrConflict", err)
			}
			if n := probes(); n != 1 {
				t.Errorf("%d probes for six conditional writes, want 1", n)
			}
		})
	}
	t.Run("headers ignored", func(t *testing.T) {
		srv := ignoringConditionalWrites(t, real)
		s := srv.open(t, "ignored")
		ctx := t.Context()
		base, err := s.Put(ctx, "repodata/repomd.xml", strings.NewReader("base"))
		if err != nil {
			t.Fatal(err)
		}
		for range 2 {
			_, err := s.PutIfAbsent(ctx, "new", strings.NewReader("x"))
			if !errors.Is(err, store.ErrUnsupported) || !strings.Contains(err.Error(), srv.endpoint) || !strings.Contains(err.Error(), "If-None-Match") {
				t.Errorf("PutIfAbsent = %v, want ErrUnsupported naming %s and If-None-Match", err, srv.endpoint)
			}
			_, err = s.CompareAndSwap(ctx, "repodata/repomd.xml", base.Version, strings.NewReader("overwritten"))
			if !errors.Is(err, store.ErrUnsupported) {
				t.Errorf("CompareAndSwap = %v, want ErrUnsupported", err)
			}
		}
		var keys []string
		for info, err := range s.List(ctx, "") {
			if err != nil {
				t.Fatal(err)
			}
			keys = append(keys, info.Key)
		}
		if info, _ := s.Stat(ctx, "repodata/repomd.xml"); len(keys) != 1 || info.Version != base.Version {
			t.Errorf("after refused writes the store holds %q, repomd.xml version %s (want only it, at %s)", keys, info.Version, base.Version)
		}
	})
}

// On AWS with SSE-KMS an object's ETag is not the MD5 of its content. Get
// must still return it: the same ETag with the same body twice in a row is
// an answer, not a replace in progress. The ETags here are gofakes3's own,
// made opaque by a proxy (a digest of the digest), as such a server's are.
func TestS3GetWhenETagsAreNotContentMD5s(t *testing.T) {
	backend := s3mem.New()
	if err := backend.CreateBucket("fake"); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	opaque := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fake.ServeHTTP(&etagRewriter{ResponseWriter: w}, r)
	})
	srv := httptest.NewServer(opaque)
	t.Cleanup(srv.Close)
	s := s3Server{srv.URL, "ak", "sk", "fake"}.open(t, "kms")
	want := []byte("<repomd/>\n")
	if _, err := s.Put(t.Context(), "repomd.xml", bytes.NewReader(want)); err != nil {
		t.Fatal(err)
	}
	rc, info, err := s.Get(t.Context(), "repomd.xml")
	if err != nil {
		t.Fatalf("Get with opaque ETags: %v", err)
	}
	defer rc.Close()
	got, _ := io.ReadAll(rc)
	sum := md5.Sum(want)
	if !bytes.Equal(got, want) || info.Version == `"`+hex.EncodeToString(sum[:])+`"` {
		t.Fatalf("Get = %q, ETag %s; want %q under an ETag that is not its MD5", got, info.Version, want)
	}
}

// etagRewriter replaces the ETag header with an MD5 of it.
type etagRewriter struct {
	http.ResponseWriter
	wrote bool
}

func (e *etagRewriter) WriteHeader(code int) {
	if e.wrote {
		return
	}
	e.wrote = true
	if tag := e.Header().Get("ETag"); tag != "" {
		sum := md5.Sum([]byte(tag))
		e.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *etagRewriter) Write(b []byte) (int, error) {
	e.WriteHeader(http.StatusOK)
	return e.ResponseWriter.Write(b)
}
