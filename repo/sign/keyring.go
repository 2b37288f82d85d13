package sign

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/kabiforge/kabiforge/internal/infile"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Keyring is a set of trusted public keys that signatures are checked against.
//
// Besides full keys it keeps every public key and subkey packet as read, so
// that old keys whose self-signatures modern OpenPGP libraries reject (SHA-1,
// v3) still verify the signatures made with them, as rpm does.
type Keyring struct {
	entities openpgp.EntityList
	keys     []*packet.PublicKey
}

// maxKeyringBytes bounds a public key file.
const maxKeyringBytes = 16 << 20

// LoadKeyring reads public keys from files, each armored (one or more
// blocks, like RPM-GPG-KEY-* files) or binary.
func LoadKeyring(paths ...string) (*Keyring, error) {
	kr := &Keyring{}
	for _, p := range paths {
		data, err := infile.ReadFile(p, maxKeyringBytes)
		if err != nil {
			return nil, fmt.Errorf("keyring %s: %w", p, err)
		}
		if err := kr.add(data); err != nil {
			return nil, fmt.Errorf("keyring %s: %w", p, err)
		}
	}
	return kr, nil
}

// ParseKeyring reads armored or binary public keys from r.
func ParseKeyring(r io.Reader) (*Keyring, error) {
	data, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, err
	}
	kr := &Keyring{}
	if err := kr.add(data); err != nil {
		return nil, err
	}
	return kr, nil
}

// add reads every key in data: all armored blocks, or binary packets.
func (kr *Keyring) add(data []byte) error {
	before := len(kr.keys)
	if !bytes.Contains(data, []byte("-----BEGIN PGP")) {
		kr.addPackets(data)
	}
	for rest := data; ; {
		i := bytes.Index(rest, []byte("-----BEGIN PGP"))
		if i < 0 {
			break
		}
		block, err := armor.Decode(bytes.NewReader(rest[i:]))
		if err != nil {
			return fmt.Errorf("bad armor: %w", err)
		}
		body, err := io.ReadAll(block.Body)
		if err != nil {
			return fmt.Errorf("bad armor: %w", err)
		}
		kr.addPackets(body)
		end := bytes.Index(rest[i:], []byte("-----END PGP"))
		if end < 0 {
			break
		}
		rest = rest[i+end+len("-----END PGP"):]
	}
	if len(kr.keys) == before {
		return errors.New("no OpenPGP public key found")
	}
	return nil
}

// addPackets keeps each public key packet in a binary key, and the whole
// key when it parses as a valid entity.
func (kr *Keyring) addPackets(data []byte) {
	if list, err := openpgp.ReadKeyRing(bytes.NewReader(data)); err == nil {
		kr.entities = append(kr.entities, list...)
	}
	pr := packet.NewReader(bytes.NewReader(data))
	for range 10000 {
		p, err := pr.Next()
		var unsupported pgperrors.UnsupportedError
		if errors.As(err, &unsupported) {
			continue // e.g. a v3 self-signature: skip it, keep the key
		}
		if err != nil {
			return
		}
		switch k := p.(type) {
		case *packet.PublicKey:
			kr.keys = append(kr.keys, k)
		case *packet.PrivateKey:
			kr.keys = append(kr.keys, &k.PublicKey)
		}
	}
}

// key returns the public key (primary or subkey) with the given ID.
func (kr *Keyring) key(id uint64) *packet.PublicKey {
	for _, k := range kr.keys {
		if k.KeyId == id {
			return k
		}
	}
	for _, e := range kr.entities {
		if e.PrimaryKey.KeyId == id {
			return e.PrimaryKey
		}
		for _, s := range e.Subkeys {
			if s.PublicKey.KeyId == id {
				return s.PublicKey
			}
		}
	}
	return nil
}

// KeyIDs lists the 16-hex-digit IDs of the keys in the ring.
func (kr *Keyring) KeyIDs() []string {
	var ids []string
	seen := map[uint64]bool{}
	add := func(id uint64) {
		if !seen[id] {
			seen[id] = true
			ids = append(ids, fmt.Sprintf("%016X", id))
		}
	}
	for _, k := range kr.keys {
		add(k.KeyId)
	}
	for _, e := range kr.entities {
		add(e.PrimaryKey.KeyId)
		for _, s := range e.Subkeys {
			add(s.PublicKey.KeyId)
		}
	}
	return ids
}
