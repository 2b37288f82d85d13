package modsign

import (
	"crypto"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Object identifiers of the PKCS#7 structures a module signature uses.
var (
	oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidRSAEncryption = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidSHA256WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
)

var hashByOID = map[string]crypto.Hash{
	oidSHA256.String(): crypto.SHA256,
	oidSHA384.String(): crypto.SHA384,
	oidSHA512.String(): crypto.SHA512,
}

var tag0 = cbasn1.Tag(0).Constructed().ContextSpecific()
var tag1 = cbasn1.Tag(1).Constructed().ContextSpecific()

// Signature is the signer information of a module's PKCS#7 signature.
type Signature struct {
	// Hash is the digest algorithm over the module.
	Hash crypto.Hash
	// Issuer is the DER Name of the signing certificate's issuer.
	Issuer []byte
	// Serial is the signing certificate's serial number.
	Serial *big.Int
	// Value is the RSA PKCS#1 v1.5 signature over the digest.
	Value []byte
	// SignedAttributes is true when the signature covers authenticated
	// attributes rather than the module itself (sign-file adds none).
	SignedAttributes bool
}

// marshalPKCS7 encodes a detached SignedData as sign-file writes it:
// version 1, one SHA-256 digest algorithm, no certificates, one signer
// identified by issuer and serial number, no signed attributes.
func marshalPKCS7(issuer []byte, serial *big.Int, sig []byte) ([]byte, error) {
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oidSignedData)
		b.AddASN1(tag0, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1Int64(1)
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
				})
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidData) })
				b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
						b.AddASN1Int64(1)
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddBytes(issuer)
							b.AddASN1BigInt(serial)
						})
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(oidSHA256) })
						b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
							b.AddASN1ObjectIdentifier(oidRSAEncryption)
							b.AddASN1NULL()
						})
						b.AddASN1OctetString(sig)
					})
				})
			})
		})
	})
	return b.Bytes()
}

// ParsePKCS7 reads the one signer of a detached PKCS#7 SignedData, the form
// sign-file appends to modules. Anything else is an error saying what.
func ParsePKCS7(der []byte) (*Signature, error) {
	in := cryptobyte.String(der)
	var ci, explicit, sd cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !in.ReadASN1(&ci, cbasn1.SEQUENCE) || !in.Empty() {
		return nil, errors.New("PKCS#7: not one DER SEQUENCE")
	}
	if !ci.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidSignedData) {
		return nil, errors.New("PKCS#7: not SignedData")
	}
	if !ci.ReadASN1(&explicit, tag0) || !explicit.ReadASN1(&sd, cbasn1.SEQUENCE) {
		return nil, errors.New("PKCS#7: malformed SignedData")
	}
	var version int64
	var digestAlgs, encap, signers cryptobyte.String
	if !sd.ReadASN1Integer(&version) || !sd.ReadASN1(&digestAlgs, cbasn1.SET) || !sd.ReadASN1(&encap, cbasn1.SEQUENCE) {
		return nil, errors.New("PKCS#7: malformed SignedData header")
	}
	if !encap.ReadASN1ObjectIdentifier(&oid) || !oid.Equal(oidData) {
		return nil, errors.New("PKCS#7: content type is not data")
	}
	if !encap.Empty() {
		return nil, errors.New("PKCS#7: content is attached, want a detached signature")
	}
	if !sd.SkipOptionalASN1(tag0) || !sd.SkipOptionalASN1(tag1) || !sd.ReadASN1(&signers, cbasn1.SET) || !sd.Empty() {
		return nil, errors.New("PKCS#7: malformed SignedData body")
	}
	var si cryptobyte.String
	if !signers.ReadASN1(&si, cbasn1.SEQUENCE) {
		return nil, errors.New("PKCS#7: no signer")
	}
	if !signers.Empty() {
		return nil, errors.New("PKCS#7: more than one signer")
	}
	return parseSignerInfo(si)
}

// parseSignerInfo reads one SignerInfo identified by issuer and serial.
func parseSignerInfo(si cryptobyte.String) (*Signature, error) {
	var version int64
	var sid, issuer, digestAlg, sigAlg cryptobyte.String
	var hashOID, sigOID asn1.ObjectIdentifier
	s := &Signature{Serial: new(big.Int)}
	if !si.ReadASN1Integer(&version) {
		return nil, errors.New("PKCS#7: malformed signer version")
	}
	if !si.ReadASN1(&sid, cbasn1.SEQUENCE) {
		return nil, errors.New("PKCS#7: signer is not identified by issuer and serial number")
	}
	if !sid.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !sid.ReadASN1Integer(s.Serial) || !sid.Empty() {
		return nil, errors.New("PKCS#7: malformed issuer and serial number")
	}
	s.Issuer = []byte(issuer)
	if !si.ReadASN1(&digestAlg, cbasn1.SEQUENCE) || !digestAlg.ReadASN1ObjectIdentifier(&hashOID) {
		return nil, errors.New("PKCS#7: malformed digest algorithm")
	}
	h, ok := hashByOID[hashOID.String()]
	if !ok {
		return nil, fmt.Errorf("PKCS#7: unsupported digest algorithm %s", hashOID)
	}
	s.Hash = h
	if si.PeekASN1Tag(tag0) {
		s.SignedAttributes = true
		if !si.SkipASN1(tag0) {
			return nil, errors.New("PKCS#7: malformed signed attributes")
		}
	}
	if !si.ReadASN1(&sigAlg, cbasn1.SEQUENCE) || !sigAlg.ReadASN1ObjectIdentifier(&sigOID) {
		return nil, errors.New("PKCS#7: malformed signature algorithm")
	}
	if !isRSA(sigOID) {
		return nil, fmt.Errorf("PKCS#7: unsupported signature algorithm %s (want RSA)", sigOID)
	}
	var value []byte
	if !si.ReadASN1Bytes(&value, cbasn1.OCTET_STRING) || !si.SkipOptionalASN1(tag1) || !si.Empty() {
		return nil, errors.New("PKCS#7: malformed signature value")
	}
	s.Value = value
	return s, nil
}

func isRSA(oid asn1.ObjectIdentifier) bool {
	for _, o := range []asn1.ObjectIdentifier{oidRSAEncryption, oidSHA256WithRSA, oidSHA384WithRSA, oidSHA512WithRSA} {
		if oid.Equal(o) {
			return true
		}
	}
	return false
}
