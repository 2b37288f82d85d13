package source

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// recorder wraps a handler and records each request's path, status and
// Range header.
type recorder struct {
	h  http.Handler
	mu sync.Mutex
	// log of served requests
	reqs []served
}

type served struct {
	path, rng string
	status    int
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(s int) { w.status = s; w.ResponseWriter.WriteHeader(s) }

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	sw := &statusWriter{ResponseWriter: w, status: 200}
	rng := req.Header.Get("Range")
	defer func() { // also when the handler aborts
		r.mu.Lock()
		r.reqs = append(r.reqs, served{req.URL.Path, rng, sw.status})
		r.mu.Unlock()
	}()
	r.h.ServeHTTP(sw, req)
}

// count returns how many requests of path (any path when "") got status.
func (r *recorder) count(path string, status int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, s := range r.reqs {
		if (path == "" || s.path == path) && (status == 0 || s.status == status) {
			n++
		}
	}
	return n
}

func (r *recorder) ranges() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, s := range r.reqs {
		if s.rng != "" {
			out = append(out, s.rng)
		}
	}
	return out
}

// serveDir serves dir over plain HTTP on 127.0.0.1.
func serveDir(t testing.TB, dir string) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{h: http.FileServer(http.Dir(dir))}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	return srv, rec
}

// pki is a test CA with a client certificate it issued, as PEM files.
type pki struct {
	pool                      *x509.CertPool
	caFile, certFile, keyFile string
}

func newPKI(t testing.TB) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test entitlement CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "entitlement 1234"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	p := pki{pool: x509.NewCertPool(), certFile: filepath.Join(dir, "client.pem"), keyFile: filepath.Join(dir, "client-key.pem")}
	p.pool.AddCert(ca)
	writePEM(t, p.certFile, "CERTIFICATE", der)
	writePEM(t, p.keyFile, "EC PRIVATE KEY", keyDER)
	return p
}

func writePEM(t testing.TB, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// serveDirTLS serves dir over https on 127.0.0.1, requiring a client
// certificate issued by p's CA. It writes the server's CA to p.caFile.
func serveDirTLS(t testing.TB, dir, prefix string, p *pki) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{h: http.StripPrefix(prefix, http.FileServer(http.Dir(dir)))}
	srv := httptest.NewUnstartedServer(rec)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: p.pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.StartTLS()
	t.Cleanup(srv.Close)
	p.caFile = filepath.Join(t.TempDir(), "server-ca.pem")
	writePEM(t, p.caFile, "CERTIFICATE", srv.Certificate().Raw)
	return srv, rec
}
