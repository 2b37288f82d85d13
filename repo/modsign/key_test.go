package modsign

import (
	"encoding/pem"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

func TestWriteAndLoadKey(t *testing.T) {
	key, other := keys(t)
	files := keyFiles(t, key)
	if fi, err := os.Stat(files.Private); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("private key file: %v %v", fi, err)
	}
	loaded, err := LoadKey(files.Private, files.Cert)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Fingerprint() != key.Fingerprint() || loaded.Signer() != key.Signer() {
		t.Error("loaded key differs")
	}
	if _, err := key.WriteFiles(strings.TrimSuffix(files.Cert, "/"+CertFileName("test")), "test"); err == nil {
		t.Error("WriteFiles overwrote an existing key")
	}
	otherFiles := keyFiles(t, other)
	_, err = LoadKey(files.Private, otherFiles.Cert)
	if err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Errorf("mismatched key and certificate: %v", err)
	}
	priv, _ := os.ReadFile(files.Private)
	block, _ := pem.Decode(priv)
	if _, err := LoadKey(files.Cert, files.Cert); err == nil || strings.Contains(err.Error(), string(block.Bytes[:16])) {
		t.Errorf("certificate as key: %v", err)
	}
	if _, err := LoadKey(files.Private, files.Private); err == nil || !strings.Contains(err.Error(), files.Private) {
		t.Errorf("key as certificate: %v", err)
	}
}

// TestCertificateExtensions reads the generated certificate with openssl:
// SHA-256 with RSA, codeSigning and the kernel's module-signing OID.
func TestCertificateExtensions(t *testing.T) {
	testutil.RequireTool(t, "openssl")
	key, _ := keys(t)
	files := keyFiles(t, key)
	out, err := exec.Command("openssl", "x509", "-inform", "DER", "-in", files.Cert, "-noout", "-text").CombinedOutput()
	if err != nil {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	for _, want := range []string{"sha256WithRSAEncryption", "Code Signing", "1.3.6.1.4.1.2312.16.1.2",
		"CN = kabiforge test module key", "CA:FALSE", "Digital Signature"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("certificate lacks %q:\n%s", want, out)
		}
	}
}
