package sign

import (
	"bytes"
	"crypto"
	//lint:ignore SA1019 old RPMs and keys are DSA-signed; verifying them needs it
	"crypto/dsa"
	"crypto/rsa"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// sigConfig makes plain, deterministic v4 signatures that rpm's own OpenPGP
// parser accepts (no salt notation).
func sigConfig() *packet.Config {
	off := false
	return &packet.Config{DefaultHash: crypto.SHA256, NonDeterministicSignaturesViaNotation: &off}
}

// makeSignature signs what was written to h (created with the SHA-256 hash)
// and returns the serialised signature packet.
func makeSignature(h hash.Hash, key *packet.PrivateKey, created time.Time) ([]byte, error) {
	sig := &packet.Signature{
		SigType:      packet.SigTypeBinary,
		CreationTime: created,
		PubKeyAlgo:   key.PublicKey.PubKeyAlgo,
		Hash:         crypto.SHA256,
		IssuerKeyId:  &key.KeyId,
	}
	if err := sig.Sign(h, key, sigConfig()); err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if err := sig.Serialize(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pgpSignature is a parsed OpenPGP signature packet, version 3 or 4.
type pgpSignature struct {
	v4      *packet.Signature // nil for a v3 signature
	v3      *v3Signature
	keyID   uint64
	hash    crypto.Hash
	created time.Time
}

// parseSignature parses one binary signature packet.
func parseSignature(blob []byte) (*pgpSignature, error) {
	if v3, err := parseV3Signature(blob); err == nil {
		return &pgpSignature{v3: v3, keyID: v3.keyID, hash: v3.hash, created: v3.created}, nil
	} else if !errors.Is(err, errNotV3) {
		return nil, err
	}
	p, err := packet.Read(bytes.NewReader(blob))
	if err != nil {
		return nil, fmt.Errorf("parse OpenPGP signature: %w", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("expected an OpenPGP signature packet, found %T", p)
	}
	s := &pgpSignature{v4: sig, hash: sig.Hash, created: sig.CreationTime}
	if sig.IssuerKeyId != nil {
		s.keyID = *sig.IssuerKeyId
	} else if n := len(sig.IssuerFingerprint); n >= 8 {
		s.keyID = binary.BigEndian.Uint64(sig.IssuerFingerprint[n-8:])
	}
	if !s.hash.Available() {
		return nil, fmt.Errorf("signature uses unsupported hash %v", s.hash)
	}
	return s, nil
}

// verify checks the signature over the data written to h (a fresh hash of
// s.hash) with key.
func (s *pgpSignature) verify(h hash.Hash, key *packet.PublicKey) error {
	if s.v4 != nil {
		return key.VerifySignature(h, s.v4)
	}
	return s.v3.verify(h, key)
}

var errNotV3 = errors.New("not a v3 signature")

// v3Signature is an RFC 4880 §5.2.2 version 3 signature, as on old RPMs.
type v3Signature struct {
	sigType byte
	created time.Time
	keyID   uint64
	algo    packet.PublicKeyAlgorithm
	hash    crypto.Hash
	left16  [2]byte
	mpis    [][]byte
	suffix  []byte // sig type and creation time, hashed after the data
}

// parseV3Signature parses a v3 signature packet; errNotV3 when blob holds
// another version.
func parseV3Signature(blob []byte) (*v3Signature, error) {
	body, err := packetBody(blob, 2)
	if err != nil {
		return nil, err
	}
	if len(body) < 1 || body[0] != 3 {
		return nil, errNotV3
	}
	if len(body) < 19 || body[1] != 5 {
		return nil, errors.New("malformed v3 signature packet")
	}
	s := &v3Signature{
		sigType: body[2],
		created: time.Unix(int64(binary.BigEndian.Uint32(body[3:7])), 0),
		keyID:   binary.BigEndian.Uint64(body[7:15]),
		algo:    packet.PublicKeyAlgorithm(body[15]),
		suffix:  append([]byte(nil), body[2:7]...),
		left16:  [2]byte{body[17], body[18]},
	}
	var ok bool
	if s.hash, ok = hashByID(body[16]); !ok {
		return nil, fmt.Errorf("v3 signature uses unsupported hash algorithm %d", body[16])
	}
	rest := body[19:]
	for len(rest) > 0 {
		if len(rest) < 2 {
			return nil, errors.New("truncated MPI in v3 signature")
		}
		n := (int(binary.BigEndian.Uint16(rest)) + 7) / 8
		if len(rest) < 2+n {
			return nil, errors.New("truncated MPI in v3 signature")
		}
		s.mpis = append(s.mpis, rest[2:2+n])
		rest = rest[2+n:]
	}
	return s, nil
}

// packetBody returns the body of the single packet in blob, which must carry tag.
func packetBody(blob []byte, tag byte) ([]byte, error) {
	if len(blob) < 2 || blob[0]&0x80 == 0 {
		return nil, errors.New("not an OpenPGP packet")
	}
	var t byte
	var length, hdr int
	if blob[0]&0x40 == 0 { // old format
		t = (blob[0] >> 2) & 0xf
		switch blob[0] & 3 {
		case 0:
			length, hdr = int(blob[1]), 2
		case 1:
			if len(blob) < 3 {
				return nil, errors.New("truncated OpenPGP packet")
			}
			length, hdr = int(binary.BigEndian.Uint16(blob[1:])), 3
		case 2:
			if len(blob) < 5 {
				return nil, errors.New("truncated OpenPGP packet")
			}
			length, hdr = int(binary.BigEndian.Uint32(blob[1:])), 5
		default:
			length, hdr = len(blob)-1, 1
		}
	} else {
		// New-format packets are only written by v4+ implementations.
		return nil, errNotV3
	}
	if t != tag {
		return nil, fmt.Errorf("OpenPGP packet has tag %d, want %d", t, tag)
	}
	if length < 0 || hdr+length > len(blob) {
		return nil, errors.New("truncated OpenPGP packet")
	}
	return blob[hdr : hdr+length], nil
}

// hashByID maps an OpenPGP (and rpm) hash algorithm number to its hash.
func hashByID(id byte) (crypto.Hash, bool) {
	var h crypto.Hash
	switch id {
	case 1:
		h = crypto.MD5
	case 2:
		h = crypto.SHA1
	case 8:
		h = crypto.SHA256
	case 9:
		h = crypto.SHA384
	case 10:
		h = crypto.SHA512
	case 11:
		h = crypto.SHA224
	}
	return h, h != 0 && h.Available()
}

// verify checks a v3 signature over the data written to h.
func (s *v3Signature) verify(h hash.Hash, key *packet.PublicKey) error {
	h.Write(s.suffix)
	digest := h.Sum(nil)
	if digest[0] != s.left16[0] || digest[1] != s.left16[1] {
		return errors.New("signature does not match the data (hash prefix differs)")
	}
	switch pub := key.PublicKey.(type) {
	case *rsa.PublicKey:
		if len(s.mpis) != 1 || s.algo != packet.PubKeyAlgoRSA && s.algo != packet.PubKeyAlgoRSASignOnly {
			return errors.New("v3 signature is not an RSA signature")
		}
		sig := s.mpis[0]
		if k := pub.Size(); len(sig) < k {
			sig = append(make([]byte, k-len(sig)), sig...)
		}
		if err := rsa.VerifyPKCS1v15(pub, s.hash, digest, sig); err != nil {
			return errors.New("RSA signature verification failed")
		}
		return nil
	case *dsa.PublicKey:
		if len(s.mpis) != 2 || s.algo != packet.PubKeyAlgoDSA {
			return errors.New("v3 signature is not a DSA signature")
		}
		if n := (pub.Q.BitLen() + 7) / 8; len(digest) > n {
			digest = digest[:n]
		}
		r, ss := new(big.Int).SetBytes(s.mpis[0]), new(big.Int).SetBytes(s.mpis[1])
		if !dsa.Verify(pub, digest, r, ss) {
			return errors.New("DSA signature verification failed")
		}
		return nil
	}
	return fmt.Errorf("v3 signatures with key algorithm %d are not supported", key.PubKeyAlgo)
}
