package sign

import (
	"bytes"
	"fmt"
	"io"
	"os"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Detach writes an armored detached signature of what r yields to w.
func (s *Signer) Detach(w io.Writer, r io.Reader) error {
	var buf bytes.Buffer
	key := s.key.signer
	h := sigConfig().Hash().New()
	if _, err := io.Copy(h, r); err != nil {
		return err
	}
	sig, err := makeSignature(h, key, s.now())
	if err != nil {
		return err
	}
	a, err := armor.Encode(&buf, openpgp.SignatureType, nil)
	if err != nil {
		return err
	}
	if _, err := a.Write(sig); err != nil {
		return err
	}
	if err := a.Close(); err != nil {
		return err
	}
	buf.WriteByte('\n')
	_, err = w.Write(buf.Bytes())
	return err
}

// SignFile writes path+".asc", an armored detached signature of path
// (repomd.xml → repomd.xml.asc), atomically, and returns its path.
func (s *Signer) SignFile(path string) (string, error) {
	in, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("sign %s: %w", path, err)
	}
	defer in.Close()
	var buf bytes.Buffer
	if err := s.Detach(&buf, in); err != nil {
		return "", fmt.Errorf("sign %s: %w", path, err)
	}
	asc := path + ".asc"
	if err := writeFileAtomic(asc, buf.Bytes(), 0o644); err != nil {
		return "", err
	}
	return asc, nil
}

// VerifyDetached checks a detached signature (armored or binary, as read
// from sig) over what data yields. It returns the signing key's ID.
func (kr *Keyring) VerifyDetached(data, sig io.Reader) (string, error) {
	raw, err := io.ReadAll(io.LimitReader(sig, 1<<20))
	if err != nil {
		return "", err
	}
	if bytes.Contains(raw, []byte("-----BEGIN PGP")) {
		block, err := armor.Decode(bytes.NewReader(raw))
		if err != nil {
			return "", fmt.Errorf("bad signature armor: %w", err)
		}
		if block.Type != openpgp.SignatureType {
			return "", fmt.Errorf("armor holds a %q, not a signature", block.Type)
		}
		if raw, err = io.ReadAll(block.Body); err != nil {
			return "", fmt.Errorf("bad signature armor: %w", err)
		}
	}
	s, err := parseSignature(raw)
	if err != nil {
		return "", err
	}
	key := kr.key(s.keyID)
	if key == nil {
		return "", fmt.Errorf("signed with key %016X, which is not in the keyring", s.keyID)
	}
	h := s.hash.New()
	var w io.Writer = h
	if s.v4 != nil && s.v4.SigType == packet.SigTypeText {
		// gpg --textmode: the data is hashed with lines ending in CRLF, the
		// signature's trailer as it is (through the canonical hash, a 0x0a
		// byte in the trailer's times or lengths would become CRLF too).
		w = openpgp.NewCanonicalTextHash(h)
	}
	if _, err := io.Copy(w, data); err != nil {
		return "", err
	}
	if err := s.verify(h, key); err != nil {
		return "", fmt.Errorf("signature by key %016X does not verify: %w", s.keyID, err)
	}
	return fmt.Sprintf("%016X", s.keyID), nil
}

// VerifyFile checks the detached signature in sigPath over the file path.
func (kr *Keyring) VerifyFile(path, sigPath string) (string, error) {
	data, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", path, err)
	}
	defer data.Close()
	sig, err := os.Open(sigPath)
	if err != nil {
		return "", fmt.Errorf("verify %s: %w", path, err)
	}
	defer sig.Close()
	id, err := kr.VerifyDetached(data, sig)
	if err != nil {
		return "", fmt.Errorf("verify %s with %s: %w", path, sigPath, err)
	}
	return id, nil
}
