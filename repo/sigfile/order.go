package sigfile

import (
	"bytes"
	"slices"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Covers reports whether the binary signature packet sig was made over
// data, by the check a detached signature allows without its key: it
// records its hash algorithm, the hashed part of its own packet and the
// first 16 bits of the resulting digest. It is a hint, not a verification:
// a signature over other data passes with probability 2^-16, and clients
// still verify whatever they receive.
func Covers(sig, data []byte) bool {
	p, err := packet.Read(bytes.NewReader(sig))
	if err != nil {
		return false
	}
	s, ok := p.(*packet.Signature)
	if !ok || s.SigType != packet.SigTypeBinary || !s.Hash.Available() || s.HashSuffix == nil {
		return false
	}
	if s.Version == 5 {
		s.AddMetadataToHashSuffix()
	}
	h := s.Hash.New()
	h.Write(s.Salt()) // v6 only; nil otherwise
	h.Write(data)
	h.Write(s.HashSuffix)
	sum := h.Sum(nil)
	return sum[0] == s.HashTag[0] && sum[1] == s.HashTag[1]
}

// MoveFirst returns asc, re-armored, with the first signature that Covers
// data moved in front of the others, so that a client checking only the
// first signature (librepo 1.14) accepts data. It returns asc unchanged
// and false when that signature is already first, when none covers data,
// or when asc does not parse.
func MoveFirst(asc, data []byte) ([]byte, bool) {
	sigs, err := Split(asc)
	if err != nil {
		return asc, false
	}
	i := slices.IndexFunc(sigs, func(sig []byte) bool { return Covers(sig, data) })
	if i <= 0 {
		return asc, false
	}
	reordered := slices.Concat([][]byte{sigs[i]}, sigs[:i], sigs[i+1:])
	out, err := Armor(reordered)
	if err != nil {
		return asc, false
	}
	return out, true
}
