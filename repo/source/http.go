package source

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/kabiforge/kabiforge/config"
)

// httpClient reads files over HTTP with bounded retries, conditional
// requests for cached small files and ranged resumption of downloads.
type httpClient struct {
	c    *http.Client
	opts Options

	mu    sync.Mutex
	cache map[string]cached // URL → last answer, for If-None-Match / If-Modified-Since
}

type cached struct {
	etag, lastModified string
	body               []byte
}

func newHTTPClient(t config.TLS, opts Options) (*httpClient, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true // checksums are over the bytes as served
	tr.ResponseHeaderTimeout = opts.timeout()
	tr.TLSHandshakeTimeout = opts.timeout()
	if t.Active() {
		cfg, err := tlsConfig(t)
		if err != nil {
			return nil, err
		}
		tr.TLSClientConfig = cfg
	}
	c := &http.Client{Transport: tr, CheckRedirect: redirectPolicy(t.Cert != "")}
	return &httpClient{c: c, opts: opts, cache: map[string]cached{}}, nil
}

var errRedirect = errors.New("refused redirect")

// redirectPolicy follows at most 10 redirects, never from https to http,
// and, when a client certificate is configured, only within the first
// request's host, so the entitlement certificate is shown to no one else.
// Content fetched after a redirect is still checked against the checksums
// and signatures of the metadata.
func redirectPolicy(sameHost bool) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		first := via[0].URL
		switch {
		case len(via) >= 10:
			return fmt.Errorf("%w: stopped after 10", errRedirect)
		case first.Scheme == "https" && req.URL.Scheme != "https":
			return fmt.Errorf("%w from https to %s", errRedirect, req.URL.Redacted())
		case sameHost && req.URL.Host != first.Host:
			return fmt.Errorf("%w to %s: the client certificate is for %s only", errRedirect, req.URL.Host, first.Host)
		}
		return nil
	}
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return 30 * time.Second
	}
	return o.Timeout
}

// tlsConfig loads a CA bundle and a client certificate and key. Errors
// name the files, never their content.
func tlsConfig(t config.TLS) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: t.ServerName}
	if t.CA != "" {
		pem, err := os.ReadFile(t.CA)
		if err != nil {
			return nil, fmt.Errorf("tls ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls ca %s: no PEM certificate in it", t.CA)
		}
		cfg.RootCAs = pool
	}
	if (t.Cert == "") != (t.Key == "") {
		return nil, errors.New("tls: cert and key must be set together")
	}
	if t.Cert != "" {
		pair, err := tls.LoadX509KeyPair(t.Cert, t.Key)
		if err != nil {
			return nil, fmt.Errorf("tls client certificate %s with key %s: cannot load the pair", t.Cert, t.Key)
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	return cfg, nil
}

// retry runs op until it succeeds, fails with anything but a
// *NetworkError, or has been retried opts.retries() times.
func (h *httpClient) retry(ctx context.Context, op func() error) error {
	pause := h.opts.backoff()
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil || !Retryable(err) || attempt >= h.opts.retries() {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (after %v)", ctx.Err(), err)
		case <-time.After(pause):
		}
		pause *= 2
	}
}

// get sends one GET and classifies failures.
func (h *httpClient) get(ctx context.Context, u string, header http.Header) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, &AccessError{URL: u, Err: err}
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := h.c.Do(req)
	if err != nil {
		return nil, classify(ctx, u, err)
	}
	switch s := resp.StatusCode; {
	case s == http.StatusOK, s == http.StatusPartialContent, s == http.StatusNotModified:
		return resp, nil
	default:
		resp.Body.Close()
		return nil, statusError(u, s)
	}
}

func statusError(u string, s int) error {
	err := errors.New(http.StatusText(s))
	if s == http.StatusTooManyRequests || s == http.StatusRequestTimeout || s >= 500 {
		return &NetworkError{URL: u, Status: s, Err: err}
	}
	return &AccessError{URL: u, Status: s, Err: err}
}

// classify sorts a transport error: the caller's cancellation as is, TLS
// trust and client-certificate failures as *AccessError, the rest as
// *NetworkError.
func classify(ctx context.Context, u string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("%s: %w", u, ctx.Err())
	}
	if errors.Is(err, errRedirect) {
		return &AccessError{URL: u, Err: err}
	}
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "remote error" {
		// The server sent a TLS alert: no, or a refused, client certificate.
		return &AccessError{URL: u, Err: fmt.Errorf("TLS: %w", err)}
	}
	var (
		alert  tls.AlertError
		verify *tls.CertificateVerificationError
		unk    x509.UnknownAuthorityError
		host   x509.HostnameError
	)
	if errors.As(err, &alert) || errors.As(err, &verify) || errors.As(err, &unk) || errors.As(err, &host) {
		return &AccessError{URL: u, Err: fmt.Errorf("TLS: %w", err)}
	}
	return &NetworkError{URL: u, Err: err}
}

// readAll reads the whole file at u, at most limit bytes. With useCache
// it sends the validators of the last answer and returns the cached body
// on 304 Not Modified.
func (h *httpClient) readAll(ctx context.Context, u string, limit int64, useCache bool) ([]byte, error) {
	var body []byte
	err := h.retry(ctx, func() error {
		var err error
		body, err = h.readOnce(ctx, u, limit, useCache)
		return err
	})
	return body, err
}

func (h *httpClient) readOnce(ctx context.Context, u string, limit int64, useCache bool) ([]byte, error) {
	h.mu.Lock()
	prev, havePrev := h.cache[u]
	h.mu.Unlock()
	header := http.Header{}
	if useCache && havePrev {
		if prev.etag != "" {
			header.Set("If-None-Match", prev.etag)
		}
		if prev.lastModified != "" {
			header.Set("If-Modified-Since", prev.lastModified)
		}
	}
	resp, err := h.get(ctx, u, header)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotModified {
		if !havePrev || !useCache {
			return nil, &NetworkError{URL: u, Status: resp.StatusCode, Err: errors.New("not modified, but nothing was cached")}
		}
		return prev.body, nil
	}
	if resp.ContentLength > limit {
		return nil, badInput(u, ErrTooLarge, "%d bytes, limit %d", resp.ContentLength, limit)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, classify(ctx, u, err)
	}
	if int64(len(body)) > limit {
		return nil, badInput(u, ErrTooLarge, "more than %d bytes", limit)
	}
	if useCache {
		h.mu.Lock()
		h.cache[u] = cached{etag: resp.Header.Get("ETag"), lastModified: resp.Header.Get("Last-Modified"), body: body}
		h.mu.Unlock()
	}
	return body, nil
}

// open streams u. When the connection fails mid-body the reader asks again
// from where it stopped (Range with If-Range when the server offers
// ranges, else from the start, skipping what was read), up to
// opts.retries() times.
func (h *httpClient) open(ctx context.Context, u string) (io.ReadCloser, error) {
	r := &resumingReader{h: h, ctx: ctx, url: u, left: h.opts.retries()}
	err := h.retry(ctx, func() error {
		resp, err := h.get(ctx, u, nil)
		if err != nil {
			return err
		}
		r.start(resp)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

type resumingReader struct {
	h         *httpClient
	ctx       context.Context
	url       string
	body      io.ReadCloser
	off       int64
	validator string // ETag, else Last-Modified, for If-Range
	ranges    bool
	left      int
}

func (r *resumingReader) start(resp *http.Response) {
	r.body = resp.Body
	r.ranges = resp.Header.Get("Accept-Ranges") == "bytes"
	r.validator = resp.Header.Get("ETag")
	if r.validator == "" {
		r.validator = resp.Header.Get("Last-Modified")
	}
}

// Read reads the body, reopening it where it broke off.
func (r *resumingReader) Read(p []byte) (int, error) {
	for {
		n, err := r.body.Read(p)
		r.off += int64(n)
		if err == nil || err == io.EOF {
			return n, err
		}
		if r.ctx.Err() != nil || r.left <= 0 {
			return n, classify(r.ctx, r.url, err)
		}
		r.left--
		if rerr := r.resume(); rerr != nil {
			return n, rerr
		}
		if n > 0 {
			return n, nil
		}
	}
}

// resume reopens the body at r.off.
func (r *resumingReader) resume() error {
	r.body.Close()
	return r.h.retry(r.ctx, func() error {
		header := http.Header{}
		if r.ranges && r.validator != "" {
			header.Set("Range", "bytes="+strconv.FormatInt(r.off, 10)+"-")
			header.Set("If-Range", r.validator)
		}
		resp, err := r.h.get(r.ctx, r.url, header)
		if err != nil {
			return err
		}
		switch {
		case resp.StatusCode == http.StatusPartialContent && contentRangeStart(resp) == r.off:
			r.body = resp.Body
			return nil
		case resp.StatusCode == http.StatusOK:
			if _, err := io.CopyN(io.Discard, resp.Body, r.off); err != nil {
				resp.Body.Close()
				return classify(r.ctx, r.url, err)
			}
			r.body = resp.Body
			return nil
		}
		resp.Body.Close()
		return &NetworkError{URL: r.url, Status: resp.StatusCode, Err: errors.New("cannot resume the download")}
	})
}

func contentRangeStart(resp *http.Response) int64 {
	var start, end, size int64
	if _, err := fmt.Sscanf(resp.Header.Get("Content-Range"), "bytes %d-%d/%d", &start, &end, &size); err != nil {
		return -1
	}
	return start
}

// Close closes the current body.
func (r *resumingReader) Close() error { return r.body.Close() }
