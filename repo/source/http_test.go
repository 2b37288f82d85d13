package source

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/config"
)

// The RHEL CDN needs an entitlement certificate: a server requiring client
// certificates serves an SRPM repository; with the configured certificate
// the source lists and fetches, without it the error says so and is not
// retryable.
func TestRPMMDClientCertificate(t *testing.T) {
	dir := signedSRPMRepo(t, "kernel")
	p := newPKI(t)
	const path = "/content/dist/rhel8/8/x86_64/baseos/source/SRPMS"
	srv, _ := serveDirTLS(t, dir, path, &p)
	cfg := config.Source{Name: "cdn", Kind: config.SourceRPMMD, URL: srv.URL + path,
		TLS: config.TLS{CA: p.caFile, Cert: p.certFile, Key: p.keyFile}}
	src := newSource(t, cfg, Options{})
	k := find(t, list(t, src), "kernel")
	st := openStore(t)
	if _, err := Fetch(context.Background(), src, k, st, FetchOptions{Keys: upstreamKeys(t)}); err != nil {
		t.Fatal(err)
	}

	noCert := cfg
	noCert.TLS = config.TLS{CA: p.caFile}
	_, err := newSource(t, noCert, Options{}).List(context.Background())
	var ae *AccessError
	if !errors.As(err, &ae) || Retryable(err) || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("without a client certificate: %v (%T), want a non-retryable *AccessError about the certificate", err, err)
	}
	t.Logf("without a client certificate: %v", err)

	noCA := cfg
	noCA.TLS.CA = ""
	_, err = newSource(t, noCA, Options{}).List(context.Background())
	if !errors.As(err, &ae) || Retryable(err) {
		t.Fatalf("with an untrusted server: %v (%T), want a non-retryable *AccessError", err, err)
	}
}

// Polling an unchanged repository costs one 304 per poll and reads primary
// once.
func TestRPMMDPollingIsConditional(t *testing.T) {
	dir := signedSRPMRepo(t, "kernel")
	srv, rec := serveDir(t, dir)
	src := newSource(t, config.Source{Name: "up", URL: srv.URL}, Options{})
	for range 5 {
		if got := len(list(t, src)); got != 1 {
			t.Fatalf("listed %d packages", got)
		}
	}
	if n := rec.count("/repodata/repomd.xml", 304); n != 4 {
		t.Errorf("%d answers 304 to repomd.xml, want 4", n)
	}
	if n := rec.count("", 0); n != 6 {
		t.Errorf("%d requests in all, want 5 repomd.xml + 1 primary", n)
	}
	// A new package changes repomd.xml and is seen at the next poll.
	buildSRPM(t, dir, "kmod-bar", "2.0", "1")
	index(t, dir)
	// Last-Modified has a one-second resolution: let the update be later.
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(filepath.Join(dir, "repodata", "repomd.xml"), later, later); err != nil {
		t.Fatal(err)
	}
	if got := len(list(t, src)); got != 2 {
		t.Errorf("after an update, listed %d packages, want 2", got)
	}
}

// With an entitlement certificate, redirects stay on the CDN's host; and
// https never redirects to http.
func TestRedirectsRefused(t *testing.T) {
	dir := signedSRPMRepo(t, "kernel")
	plain, _ := serveDir(t, dir)
	other := httptest.NewUnstartedServer(http.RedirectHandler(plain.URL+"/repodata/repomd.xml", http.StatusFound))
	other.StartTLS()
	defer other.Close()
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	writePEM(t, caFile, "CERTIFICATE", other.Certificate().Raw)
	_, err := newSource(t, config.Source{Name: "down", URL: other.URL, TLS: config.TLS{CA: caFile}}, Options{}).List(context.Background())
	var ae *AccessError
	if !errors.As(err, &ae) || Retryable(err) || !strings.Contains(err.Error(), "https to http") {
		t.Fatalf("https→http redirect: %v (%T)", err, err)
	}

	// With a client certificate only same-host redirects are followed.
	from, _ := http.NewRequest("GET", "https://cdn.redhat.example/content/repomd.xml", nil)
	for to, ok := range map[string]bool{
		"https://cdn.redhat.example/other/repomd.xml": true,
		"https://mirror.example/content/repomd.xml":   false,
	} {
		req, _ := http.NewRequest("GET", to, nil)
		if err := redirectPolicy(true)(req, []*http.Request{from}); (err == nil) != ok {
			t.Errorf("redirect to %s with a client certificate: %v", to, err)
		}
		if err := redirectPolicy(false)(req, []*http.Request{from}); err != nil {
			t.Errorf("redirect to %s without a client certificate: %v", to, err)
		}
	}
}
