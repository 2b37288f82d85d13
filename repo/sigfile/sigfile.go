// Package sigfile reads and writes detached OpenPGP signature files that
// hold several signatures, such as an rpm-md repository's repomd.xml.asc,
// and reorders them for clients that check only the first one.
package sigfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"github.com/kabiforge/kabiforge/repo/sign"
)

// Dearmor returns the binary content of an armored signature block; binary
// input is returned as is.
func Dearmor(b []byte) ([]byte, error) {
	if !bytes.Contains(b, []byte("-----BEGIN PGP")) {
		return b, nil
	}
	block, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("bad signature armor: %w", err)
	}
	if block.Type != openpgp.SignatureType {
		return nil, fmt.Errorf("armor holds a %q, not a signature", block.Type)
	}
	return io.ReadAll(block.Body)
}

// Armor writes binary signature packets as one armored block, in order.
// Clients whose librepo checks only the first signature see sigs[0].
func Armor(sigs [][]byte) ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.SignatureType, nil)
	if err != nil {
		return nil, err
	}
	for _, s := range sigs {
		if _, err := w.Write(s); err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// Split returns the packets of an armored or binary OpenPGP signature file
// one by one, each a complete binary packet that
// sign.Keyring.VerifyDetached accepts.
func Split(asc []byte) ([][]byte, error) {
	raw, err := Dearmor(asc)
	if err != nil {
		return nil, err
	}
	var out [][]byte
	for len(raw) > 0 {
		n, err := packetLen(raw)
		if err != nil {
			return nil, err
		}
		out = append(out, raw[:n])
		raw = raw[n:]
	}
	return out, nil
}

var errBadPacket = errors.New("malformed OpenPGP packet")

// packetLen returns the length of the first OpenPGP packet in b, header
// included (RFC 4880 section 4.2; partial lengths are not used for
// signatures).
func packetLen(b []byte) (int, error) {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return 0, errBadPacket
	}
	var hdr, body int
	if b[0]&0x40 != 0 { // new format
		switch l := int(b[1]); {
		case l < 192:
			hdr, body = 2, l
		case l < 224:
			if len(b) < 3 {
				return 0, errBadPacket
			}
			hdr, body = 3, (l-192)<<8+int(b[2])+192
		case l == 255:
			if len(b) < 6 {
				return 0, errBadPacket
			}
			hdr, body = 6, int(b[2])<<24|int(b[3])<<16|int(b[4])<<8|int(b[5])
		default:
			return 0, errBadPacket
		}
	} else { // old format
		switch b[0] & 3 {
		case 0:
			hdr, body = 2, int(b[1])
		case 1:
			if len(b) < 3 {
				return 0, errBadPacket
			}
			hdr, body = 3, int(b[1])<<8|int(b[2])
		case 2:
			if len(b) < 5 {
				return 0, errBadPacket
			}
			hdr, body = 5, int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4])
		default:
			return 0, errBadPacket
		}
	}
	if body < 0 || hdr+body > len(b) {
		return 0, errBadPacket
	}
	return hdr + body, nil
}

// VerifyAny reports whether any signature in asc verifies data with kr,
// as librepo with key-rotation support does.
func VerifyAny(kr *sign.Keyring, data, asc []byte) error {
	sigs, err := Split(asc)
	if err != nil {
		return err
	}
	var errs []error
	for _, s := range sigs {
		if _, err := kr.VerifyDetached(bytes.NewReader(data), bytes.NewReader(s)); err == nil {
			return nil
		} else {
			errs = append(errs, err)
		}
	}
	if len(errs) == 0 {
		return errors.New("no signatures")
	}
	return fmt.Errorf("no signature verifies: %w", errors.Join(errs...))
}

// VerifyFirst reports whether the first signature in asc verifies data, as
// librepo 1.14.5 (Debian 12) does.
func VerifyFirst(kr *sign.Keyring, data, asc []byte) error {
	sigs, err := Split(asc)
	if err != nil {
		return err
	}
	if len(sigs) == 0 {
		return errors.New("no signatures")
	}
	_, err = kr.VerifyDetached(bytes.NewReader(data), bytes.NewReader(sigs[0]))
	return err
}
