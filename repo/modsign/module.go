package modsign

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/binary"
	"errors"
	"fmt"
)

// Magic is the trailer the kernel looks for at the end of a signed module.
const Magic = "~Module signature appended~\n"

// sigInfoLen is the size of the kernel's struct module_signature.
const sigInfoLen = 12

// idPKCS7 is module_signature.id_type for a PKCS#7 signature.
const idPKCS7 = 2

// ErrUnsigned says a module carries no signature at all.
var ErrUnsigned = errors.New("module is not signed")

// Split cuts a signed module into the signed payload and the PKCS#7 blob,
// reading the module_signature struct the way the kernel's
// mod_check_sig does. A module without the trailer gives ErrUnsigned.
func Split(module []byte) (payload, pkcs7 []byte, err error) {
	if !bytes.HasSuffix(module, []byte(Magic)) {
		return nil, nil, ErrUnsigned
	}
	rest := module[:len(module)-len(Magic)]
	if len(rest) < sigInfoLen {
		return nil, nil, errors.New("module signature: truncated module_signature")
	}
	info := rest[len(rest)-sigInfoLen:]
	rest = rest[:len(rest)-sigInfoLen]
	algo, hash, idType, signerLen, keyIDLen := info[0], info[1], info[2], info[3], info[4]
	sigLen := binary.BigEndian.Uint32(info[8:])
	if idType != idPKCS7 {
		return nil, nil, fmt.Errorf("module signature: id_type %d, want %d (PKCS#7)", idType, idPKCS7)
	}
	if algo != 0 || hash != 0 || signerLen != 0 || keyIDLen != 0 || info[5] != 0 || info[6] != 0 || info[7] != 0 {
		return nil, nil, errors.New("module signature: PKCS#7 signature with non-zero algo, hash, signer, key id or padding")
	}
	if sigLen == 0 || uint64(sigLen) > uint64(len(rest)) {
		return nil, nil, fmt.Errorf("module signature: sig_len %d does not fit the %d bytes before it", sigLen, len(rest))
	}
	cut := len(rest) - int(sigLen)
	return rest[:cut], rest[cut:], nil
}

// Sign returns module with a signature by k appended, as
// `scripts/sign-file sha256 key cert module` writes it. A module that
// already carries a signature is an error: strip it first (Strip).
func (k *Key) Sign(module []byte) ([]byte, error) {
	if bytes.HasSuffix(module, []byte(Magic)) {
		return nil, errors.New("module is already signed")
	}
	digest := crypto.SHA256.New()
	digest.Write(module)
	sig, err := rsa.SignPKCS1v15(rand.Reader, k.priv, crypto.SHA256, digest.Sum(nil))
	if err != nil {
		return nil, fmt.Errorf("sign module: %w", err)
	}
	p7, err := marshalPKCS7(k.cert.RawIssuer, k.cert.SerialNumber, sig)
	if err != nil {
		return nil, fmt.Errorf("sign module: encode PKCS#7: %w", err)
	}
	out := make([]byte, 0, len(module)+len(p7)+sigInfoLen+len(Magic))
	out = append(out, module...)
	out = append(out, p7...)
	var info [sigInfoLen]byte
	info[2] = idPKCS7
	binary.BigEndian.PutUint32(info[8:], uint32(len(p7)))
	out = append(out, info[:]...)
	return append(out, Magic...), nil
}

// Strip returns module without its signature, or module itself when it
// carries none.
func Strip(module []byte) ([]byte, error) {
	payload, _, err := Split(module)
	if errors.Is(err, ErrUnsigned) {
		return module, nil
	}
	return payload, err
}

// Verify checks that module carries a signature made by cert's key over
// the rest of the module. The error says what failed: no signature, a
// malformed one, another signer, or a signature that does not match.
func Verify(module []byte, cert *x509.Certificate) error {
	payload, p7, err := Split(module)
	if err != nil {
		return err
	}
	s, err := ParsePKCS7(p7)
	if err != nil {
		return fmt.Errorf("module signature: %w", err)
	}
	if s.SignedAttributes {
		return errors.New("module signature: signed attributes are not supported (sign-file adds none)")
	}
	if !bytes.Equal(s.Issuer, cert.RawIssuer) || s.Serial.Cmp(cert.SerialNumber) != 0 {
		return fmt.Errorf("module signature: signed by another key (serial %X), not %q (serial %X)",
			s.Serial, cert.Subject.CommonName, cert.SerialNumber)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("module signature: certificate key is %T, want RSA", cert.PublicKey)
	}
	h := s.Hash.New()
	h.Write(payload)
	if err := rsa.VerifyPKCS1v15(pub, s.Hash, h.Sum(nil), s.Value); err != nil {
		return fmt.Errorf("module signature: does not verify against %q: %w", cert.Subject.CommonName, err)
	}
	return nil
}
