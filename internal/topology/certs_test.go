//go:build topology

package topology

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// pki holds the files of a test CA and the certificates it signed: the
// Temporal frontend's (for its address and the name "temporal") and one
// client certificate the workers, the server's own system worker and the
// harness present.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

// serverName is the name in the frontend's certificate.
const serverName = "temporal"

func newPKI(t *testing.T, serverIP net.IP) pki {
	t.Helper()
	dir := t.TempDir()
	caKey, caDER := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "kabiforge topology test CA"},
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}, nil, nil)
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	p := pki{ca: filepath.Join(dir, "ca.pem")}
	writePEM(t, p.ca, "CERTIFICATE", caDER)
	sKey, sDER := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: serverName}, DNSNames: []string{serverName},
		IPAddresses: []net.IP{serverIP}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}, ca, caKey)
	p.serverCert, p.serverKey = write(t, dir, "server", sDER, sKey)
	cKey, cDER := issue(t, &x509.Certificate{Subject: pkix.Name{CommonName: "kabiforge-worker"},
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}, ca, caKey)
	p.clientCert, p.clientKey = write(t, dir, "client", cDER, cKey)
	return p
}

// issue makes a key and a certificate from tmpl, signed by parent (self-signed when nil).
func issue(t *testing.T, tmpl, parent *x509.Certificate, parentKey *ecdsa.PrivateKey) (*ecdsa.PrivateKey, []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(1<<62))
	if err != nil {
		t.Fatal(err)
	}
	tmpl.SerialNumber = serial
	tmpl.NotBefore, tmpl.NotAfter = time.Now().Add(-time.Hour), time.Now().Add(24*time.Hour)
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	if err != nil {
		t.Fatal(err)
	}
	return key, der
}

func write(t *testing.T, dir, name string, der []byte, key *ecdsa.PrivateKey) (cert, keyFile string) {
	t.Helper()
	cert, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+".key")
	writePEM(t, cert, "CERTIFICATE", der)
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, keyFile, "PRIVATE KEY", k)
	return cert, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
