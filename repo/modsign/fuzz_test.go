package modsign

import (
	"crypto/x509"
	"testing"
)

// FuzzVerify feeds arbitrary module tails to Split, ParsePKCS7 and Verify:
// none may panic, and nothing but the key's own signature may verify.
func FuzzVerify(f *testing.F) {
	key, err := Generate("fuzz", 1024)
	if err != nil {
		f.Fatal(err)
	}
	signed, err := key.Sign([]byte("\x7fELF payload"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte(Magic))
	f.Add(signed[len("\x7fELF payload"):])
	cert := key.Certificate()
	f.Fuzz(func(t *testing.T, data []byte) {
		if _, p7, err := Split(data); err == nil {
			if s, err := ParsePKCS7(p7); err == nil && s.Serial == nil {
				t.Fatal("parsed signature without serial")
			}
		}
		if Verify(data, cert) == nil && string(data) != string(signed) {
			checkGenuine(t, data, cert)
		}
	})
}

// checkGenuine fails unless data is the fuzz key's signature over some
// payload, i.e. the payload hashes to what the key signed.
func checkGenuine(t *testing.T, data []byte, cert *x509.Certificate) {
	payload, _, err := Split(data)
	if err != nil || string(payload) != "\x7fELF payload" {
		t.Fatalf("Verify accepted a forged module: %q", data)
	}
}
