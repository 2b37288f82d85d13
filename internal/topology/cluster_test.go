//go:build topology

package topology

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// Settings of the runs.
const (
	passphrase = "topology-test-passphrase"
	heartbeat  = "5s" // builder.heartbeat_timeout: how soon a lost host's build moves
	// buildSeconds is how long the kernel's %build takes (it sleeps): long
	// enough to disturb the build host mid-build.
	buildSeconds = 15
)

// newCluster starts the services and the build hosts' namespaces, and writes
// the inputs every run rebuilds from.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	began := time.Now()
	kabiforgeBinary(t)
	built := time.Now()
	c := &cluster{net: newNetwork(t, 2)}
	c.pg = startPostgres(t, c.net.ledger)
	c.certs = newPKI(t, net.ParseIP(c.net.services))
	pg := time.Now()
	c.temporal = startTemporal(t, c.pg, c.net.services, c.certs)
	temporal := time.Now()
	c.s3.endpoint, c.s3.accessKey, c.s3.secretKey, c.s3.bucket = testutil.StartVersityGWOn(t, c.net.services)
	t.Logf("setup: kabiforge binary %v, network and PostgreSQL %v, Temporal (schema, binary, start) %v, versitygw %v",
		built.Sub(began).Round(time.Millisecond), pg.Sub(built).Round(time.Millisecond),
		temporal.Sub(pg).Round(time.Millisecond), time.Since(temporal).Round(time.Millisecond))
	root := t.TempDir()
	c.upstream, c.keyFile = filepath.Join(root, "upstream"), filepath.Join(root, "signing.asc")
	key, err := sign.Generate("topology", "topology@example.org", sign.RSA4096)
	if err != nil {
		t.Fatal(err)
	}
	var armor bytes.Buffer
	if err := key.WritePrivate(&armor, []byte(passphrase)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(c.keyFile, armor.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	k := demo.BaseKernel()
	k.BuildSeconds = buildSeconds
	if _, err := demo.KernelSRPM(c.upstream, k); err != nil {
		t.Fatal(err)
	}
	for _, m := range demo.Kmods(k.NVR) {
		c.kmods = append(c.kmods, m.Name)
		if _, err := demo.KmodSRPM(c.upstream, m); err != nil {
			t.Fatal(err)
		}
	}
	return c
}

// dial connects to the cluster's namespace ns with the client certificate.
func (c *cluster) dial(t *testing.T, ns string) client.Client {
	t.Helper()
	pem, err := os.ReadFile(c.certs.ca)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cert, err := tls.LoadX509KeyPair(c.certs.clientCert, c.certs.clientKey)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := client.Dial(client.Options{HostPort: c.temporal.frontend, Namespace: ns,
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))),
		ConnectionOptions: client.ConnectionOptions{TLS: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{cert},
			ServerName: serverName, MinVersion: tls.VersionTLS12}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// download copies every object under prefix in the bucket into dir.
func (c *cluster) download(t *testing.T, prefix, dir string) {
	t.Helper()
	s := s3.New(s3.Options{BaseEndpoint: aws.String(c.s3.endpoint), Region: "us-east-1", UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(c.s3.accessKey, c.s3.secretKey, "")})
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	pages := s3.NewListObjectsV2Paginator(s, &s3.ListObjectsV2Input{Bucket: aws.String(c.s3.bucket), Prefix: aws.String(prefix)})
	n := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatalf("list s3://%s/%s: %v", c.s3.bucket, prefix, err)
		}
		for _, o := range page.Contents {
			key := aws.ToString(o.Key)
			obj, err := s.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(c.s3.bucket), Key: o.Key})
			if err != nil {
				t.Fatalf("get s3://%s/%s: %v", c.s3.bucket, key, err)
			}
			data, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(dir, filepath.FromSlash(strings.TrimPrefix(key, prefix)))
			if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(dst, data, 0o644); err != nil {
				t.Fatal(err)
			}
			n++
		}
	}
	if n == 0 {
		t.Fatalf("nothing under s3://%s/%s", c.s3.bucket, prefix)
	}
}
