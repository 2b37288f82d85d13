package testutil

import (
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// IgnoringConditionalWrites starts, for the test's duration, a reverse proxy
// on 127.0.0.1 in front of the real S3 server at endpoint that drops
// If-None-Match and If-Match from every request and signs it again with the
// given credentials: to its clients it is a server that does not know those
// headers and overwrites silently. It returns the proxy's endpoint.
func IgnoringConditionalWrites(t testing.TB, endpoint, accessKey, secretKey string) string {
	t.Helper()
	target, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	signer := v4.NewSigner()
	creds := aws.Credentials{AccessKeyID: accessKey, SecretAccessKey: secretKey}
	proxy := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(target)
		pr.Out.Host = pr.In.Host // the client signed the proxy's host
		r := pr.Out
		if r.Header.Get("If-None-Match") == "" && r.Header.Get("If-Match") == "" {
			return
		}
		r.Header.Del("If-None-Match")
		r.Header.Del("If-Match")
		r.Header.Del("Authorization")
		err := signer.SignHTTP(r.Context(), creds, r, r.Header.Get("X-Amz-Content-Sha256"), "s3", "us-east-1", time.Now())
		if err != nil {
			t.Errorf("re-sign: %v", err)
		}
	}}
	p := httptest.NewServer(proxy)
	t.Cleanup(p.Close)
	return p.URL
}
