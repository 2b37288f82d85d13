// Package modsign holds the repository's module-signing key: an X.509
// certificate and RSA key that sign kernel modules the way kbuild's
// scripts/sign-file does (a detached PKCS#7 SignedData, the module_signature
// struct and the "~Module signature appended~" trailer) and verify them
// again before publishing. The DER certificate is what users import with
// mokutil and what a rebuilt kernel trusts in CONFIG_SYSTEM_TRUSTED_KEYS.
//
// The private key never appears in errors or logs.
package modsign

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// OIDModuleSigning is the extended key usage the kernel's certificate
// parser knows for keys that may sign modules and nothing else.
var OIDModuleSigning = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 2312, 16, 1, 2}

// DefaultBits is the RSA key size Generate uses when given 0.
const DefaultBits = 4096

// Key is a module-signing key: the RSA private key and its certificate.
type Key struct {
	priv *rsa.PrivateKey
	cert *x509.Certificate
}

// Generate makes a new RSA key of bits (DefaultBits when 0) and a
// self-signed certificate for it with common name cn, SHA-256, the
// codeSigning extended key usage and the kernel's module-signing OID.
func Generate(cn string, bits int) (*Key, error) {
	if strings.TrimSpace(cn) == "" {
		return nil, errors.New("generate module-signing key: a name is required")
	}
	if bits == 0 {
		bits = DefaultBits
	}
	priv, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, fmt.Errorf("generate module-signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 159))
	if err != nil {
		return nil, fmt.Errorf("generate module-signing key: %w", err)
	}
	pubDER := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	skid := sha1.Sum(pubDER)
	now := time.Now().UTC()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(100, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		UnknownExtKeyUsage:    []asn1.ObjectIdentifier{OIDModuleSigning},
		BasicConstraintsValid: true,
		SubjectKeyId:          skid[:],
		AuthorityKeyId:        skid[:],
		SignatureAlgorithm:    x509.SHA256WithRSA,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return nil, fmt.Errorf("generate module-signing certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("generate module-signing certificate: %w", err)
	}
	return &Key{priv: priv, cert: cert}, nil
}

// Certificate returns the key's certificate.
func (k *Key) Certificate() *x509.Certificate { return k.cert }

// CertificateDER returns the certificate in DER, as published for mokutil.
func (k *Key) CertificateDER() []byte { return bytes.Clone(k.cert.Raw) }

// Signer returns the certificate's common name, what `modinfo -F signer`
// shows for a module this key signed.
func (k *Key) Signer() string { return k.cert.Subject.CommonName }

// Fingerprint returns the SHA-256 of the DER certificate in upper-case hex,
// as `mokutil --list-enrolled` and `openssl x509 -fingerprint` show it.
func (k *Key) Fingerprint() string { return Fingerprint(k.cert) }

// Fingerprint returns the SHA-256 of a certificate's DER in upper-case hex.
func Fingerprint(c *x509.Certificate) string {
	sum := crypto.SHA256.New()
	sum.Write(c.Raw)
	return fmt.Sprintf("%X", sum.Sum(nil))
}

// PrivatePEM returns the private key as a PKCS#8 PEM block, the form
// scripts/sign-file and sbsign read. Handle it as the secret it is.
func (k *Key) PrivatePEM() ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k.priv)
	if err != nil {
		return nil, fmt.Errorf("encode module-signing key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// CertificatePEM returns the certificate as a PEM block (sbsign, openssl).
func (k *Key) CertificatePEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw})
}

// Files are the paths WriteFiles wrote.
type Files struct {
	Private string // PKCS#8 PEM private key, mode 0600
	Cert    string // DER certificate, SECURE-BOOT-KEY-<name>.der
}

// Absent fails when either file exists: keys are never overwritten.
func (f Files) Absent() error {
	for _, p := range []string{f.Private, f.Cert} {
		if _, err := os.Lstat(p); err == nil {
			return fmt.Errorf("%s already exists; not overwriting a key", p)
		}
	}
	return nil
}

// FileNames returns where WriteFiles puts a key named name in dir.
func FileNames(dir, name string) Files {
	return Files{
		Private: filepath.Join(dir, name+".modsign.pem"),
		Cert:    filepath.Join(dir, CertFileName(name)),
	}
}

// CertFileName is the published name of a repository's certificate.
func CertFileName(name string) string { return "SECURE-BOOT-KEY-" + name + ".der" }

// WriteFiles writes the private key as <name>.modsign.pem (mode 0600) and
// the certificate as SECURE-BOOT-KEY-<name>.der into dir, refusing to
// overwrite either.
func (k *Key) WriteFiles(dir, name string) (Files, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || name != filepath.Clean(name) || strings.HasPrefix(name, ".") {
		return Files{}, fmt.Errorf("module key file name %q: must be a plain file name", name)
	}
	files := FileNames(dir, name)
	return files, k.Write(files)
}

// Write writes the private key (mode 0600) and the DER certificate to the
// paths in files, refusing to overwrite either.
func (k *Key) Write(files Files) error {
	if err := files.Absent(); err != nil {
		return err
	}
	priv, err := k.PrivatePEM()
	if err != nil {
		return err
	}
	if err := writeNew(files.Private, priv, 0o600); err != nil {
		return err
	}
	if err := writeNew(files.Cert, k.cert.Raw, 0o644); err != nil {
		os.Remove(files.Private)
		return err
	}
	return nil
}

// writeNew creates path with data, failing if it exists.
func writeNew(path string, data []byte, perm os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// LoadKey reads a PEM private key (PKCS#8 or PKCS#1) and its certificate
// (DER or PEM) and checks that they belong together. Errors name the files
// and never contain key material.
func LoadKey(privPath, certPath string) (*Key, error) {
	cert, err := LoadCertificate(certPath)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(privPath)
	if err != nil {
		return nil, fmt.Errorf("module-signing key %s: %w", privPath, err)
	}
	priv, err := parsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("module-signing key %s: %w", privPath, err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok || !pub.Equal(&priv.PublicKey) {
		return nil, fmt.Errorf("module-signing key %s does not match certificate %s", privPath, certPath)
	}
	return &Key{priv: priv, cert: cert}, nil
}

// parsePrivate reads the first PEM private key block in data.
func parsePrivate(data []byte) (*rsa.PrivateKey, error) {
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, errors.New("no PEM private key found")
		}
		switch block.Type {
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
			if err != nil {
				return nil, errors.New("malformed PKCS#8 private key")
			}
			rk, ok := k.(*rsa.PrivateKey)
			if !ok {
				return nil, fmt.Errorf("a %T key, want RSA", k)
			}
			return rk, nil
		case "RSA PRIVATE KEY":
			if _, enc := block.Headers["DEK-Info"]; enc {
				return nil, errors.New("encrypted PEM keys are not supported")
			}
			k, err := x509.ParsePKCS1PrivateKey(block.Bytes)
			if err != nil {
				return nil, errors.New("malformed PKCS#1 private key")
			}
			return k, nil
		case "ENCRYPTED PRIVATE KEY":
			return nil, errors.New("encrypted PEM keys are not supported")
		}
	}
}

// LoadCertificate reads an X.509 certificate, DER or PEM.
func LoadCertificate(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("module-signing certificate %s: %w", path, err)
	}
	c, err := ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("module-signing certificate %s: %w", path, err)
	}
	return c, nil
}

// ParseCertificate reads an X.509 certificate, DER or PEM.
func ParseCertificate(data []byte) (*x509.Certificate, error) {
	if block, _ := pem.Decode(data); block != nil && block.Type == "CERTIFICATE" {
		data = block.Bytes
	}
	c, err := x509.ParseCertificate(data)
	if err != nil {
		return nil, fmt.Errorf("not an X.509 certificate: %w", err)
	}
	if _, ok := c.PublicKey.(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("certificate holds a %T key, want RSA", c.PublicKey)
	}
	return c, nil
}
