package sign

import (
	"errors"
	"fmt"
	"hash"
	"os"
	"time"
)

// RPMSignature describes one OpenPGP signature that verified on an RPM.
type RPMSignature struct {
	KeyID      string    // 16 hex digits, upper case
	Created    time.Time // signature creation time
	HeaderOnly bool      // covers the main header only (the payload through its digest)
}

// VerifyRPM checks the RPM at path like `rpmkeys --checksig` with
// _pkgverify_level signature: the header and payload digests must match,
// every OpenPGP signature on it must be made by a key in kr and verify, and
// the payload must be covered (by a header+payload signature, or by a
// header signature plus the header's payload digest). It returns the
// signatures that verified.
func (kr *Keyring) VerifyRPM(path string) ([]RPMSignature, error) {
	sigs, err := kr.verifyRPM(path)
	if err != nil {
		return nil, fmt.Errorf("verify %s: %w", path, err)
	}
	return sigs, nil
}

type pendingSig struct {
	sig        *pgpSignature
	h          hash.Hash
	headerOnly bool
}

func (kr *Keyring) verifyRPM(path string) ([]RPMSignature, error) {
	in, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return nil, err
	}
	f, err := readRPMHeaders(in, st.Size())
	if err != nil {
		return nil, err
	}
	if err := checkHeaderDigests(f); err != nil {
		return nil, err
	}
	var pending []pendingSig
	var whole []hash.Hash
	for _, t := range []int32{tagRSAHeader, tagDSAHeader, tagPGP, tagGPG} {
		blob := f.sig.bin(t)
		if blob == nil {
			continue
		}
		sig, err := parseSignature(blob)
		if err != nil {
			return nil, fmt.Errorf("signature tag %d: %w", t, err)
		}
		p := pendingSig{sig: sig, h: sig.hash.New(), headerOnly: t == tagRSAHeader || t == tagDSAHeader}
		if p.headerOnly {
			p.h.Write(f.main.raw)
		} else {
			whole = append(whole, p.h)
		}
		pending = append(pending, p)
	}
	if len(pending) == 0 {
		return nil, errors.New("package is not signed")
	}
	if err := checkPayload(f, payloadReader(in, f, st.Size()), whole...); err != nil {
		return nil, err
	}
	payloadCovered := false
	var out []RPMSignature
	for _, p := range pending {
		key := kr.key(p.sig.keyID)
		if key == nil {
			return nil, fmt.Errorf("signed with key %016X, which is not in the keyring", p.sig.keyID)
		}
		if err := p.sig.verify(p.h, key); err != nil {
			return nil, fmt.Errorf("signature by key %016X does not verify: %w", p.sig.keyID, err)
		}
		if !p.headerOnly || f.main.str(tagPayloadDigest) != "" {
			payloadCovered = true
		}
		out = append(out, RPMSignature{KeyID: fmt.Sprintf("%016X", p.sig.keyID), Created: p.sig.created, HeaderOnly: p.headerOnly})
	}
	if !payloadCovered {
		return nil, errors.New("no signature covers the payload (header-only signature and no payload digest)")
	}
	return out, nil
}
