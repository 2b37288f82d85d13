// Package sign holds kabiforge's OpenPGP keys and signatures: generating and
// loading signing keys, signing RPMs the way rpmsign does, signing files with
// detached armored signatures (repomd.xml.asc), and verifying both against a
// keyring of public keys.
//
// Key material never appears in errors or logs.
package sign

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/internal/infile"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// Algorithm names a key type that Generate can make.
type Algorithm string

// Key types. rpm 4.18 verifies both; RSA is what every RPM tool understands.
const (
	RSA4096 Algorithm = "rsa4096"
	Ed25519 Algorithm = "ed25519"
)

// Key is an OpenPGP key whose private signing part is unlocked.
type Key struct {
	entity *openpgp.Entity
	signer *packet.PrivateKey
}

// Generate makes a new signing key for the identity "name <email>".
func Generate(name, email string, algo Algorithm) (*Key, error) {
	if strings.TrimSpace(name) == "" {
		return nil, errors.New("generate key: a name is required")
	}
	cfg := &packet.Config{DefaultHash: crypto.SHA256}
	switch algo {
	case RSA4096, "":
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 4096
	case Ed25519:
		cfg.Algorithm = packet.PubKeyAlgoEdDSA
	default:
		return nil, fmt.Errorf("generate key: unknown algorithm %q (want %s or %s)", algo, RSA4096, Ed25519)
	}
	e, err := openpgp.NewEntity(name, "", email, cfg)
	if err != nil {
		return nil, fmt.Errorf("generate key: %w", err)
	}
	return &Key{entity: e, signer: e.PrivateKey}, nil
}

// LoadKey reads an armored (or binary) private key from path and unlocks it
// with passphrase, which may be nil for an unprotected key. Errors name the
// file and never contain key material.
func LoadKey(path string, passphrase []byte) (*Key, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	defer f.Close()
	k, err := ParseKey(f, passphrase)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", path, err)
	}
	return k, nil
}

// ErrWrongPassphrase is returned when a protected key does not unlock.
var ErrWrongPassphrase = errors.New("wrong passphrase")

// ParseKey reads one private key, armored or binary, and unlocks it.
func ParseKey(r io.Reader, passphrase []byte) (*Key, error) {
	entities, err := readEntities(r)
	if err != nil {
		return nil, err
	}
	if len(entities) != 1 {
		return nil, fmt.Errorf("holds %d keys, want exactly one", len(entities))
	}
	e := entities[0]
	if e.PrivateKey == nil {
		return nil, errors.New("not a private key (it holds only a public key)")
	}
	signer := e.PrivateKey
	if sk, ok := e.SigningKey(time.Now()); ok && sk.PrivateKey != nil {
		signer = sk.PrivateKey
	}
	if signer.Encrypted {
		if len(passphrase) == 0 {
			return nil, errors.New("key is passphrase-protected and no passphrase was given")
		}
		if err := signer.Decrypt(passphrase); err != nil {
			return nil, ErrWrongPassphrase
		}
	}
	if signer.Dummy() || !signer.CanSign() {
		return nil, errors.New("key has no usable private signing key")
	}
	return &Key{entity: e, signer: signer}, nil
}

// readEntities reads keys armored or binary.
func readEntities(r io.Reader) (openpgp.EntityList, error) {
	data, err := io.ReadAll(io.LimitReader(r, 1<<20))
	if err != nil {
		return nil, err
	}
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		block, err := armor.Decode(bytes.NewReader(data))
		if err != nil {
			return nil, fmt.Errorf("bad armor: %w", err)
		}
		data, err = io.ReadAll(block.Body)
		if err != nil {
			return nil, fmt.Errorf("bad armor: %w", err)
		}
	}
	entities, err := openpgp.ReadKeyRing(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("not an OpenPGP key: %w", err)
	}
	return entities, nil
}

// KeyID returns the signing key's 16-hex-digit ID, upper case.
func (k *Key) KeyID() string { return fmt.Sprintf("%016X", k.signer.KeyId) }

// Created is when the signing key (the subkey that signs, else the primary
// key) was made: the earliest time a signature by it can carry.
func (k *Key) Created() time.Time { return k.signer.CreationTime }

// Fingerprint returns the primary key's fingerprint in upper-case hex.
func (k *Key) Fingerprint() string { return fmt.Sprintf("%X", k.entity.PrimaryKey.Fingerprint) }

// Identity returns the key's primary user ID, "Name <email>".
func (k *Key) Identity() string {
	if id := k.entity.PrimaryIdentity(); id != nil {
		return id.Name
	}
	return ""
}

// Keyring returns a keyring holding this key's public part.
func (k *Key) Keyring() *Keyring {
	return &Keyring{entities: openpgp.EntityList{k.entity}}
}

// WritePublic writes the armored public key.
func (k *Key) WritePublic(w io.Writer) error {
	a, err := armor.Encode(w, openpgp.PublicKeyType, nil)
	if err != nil {
		return err
	}
	if err := k.entity.Serialize(a); err != nil {
		return err
	}
	return a.Close()
}

// WritePrivate writes the armored private key, protected by passphrase
// unless it is empty. The key stays unlocked in memory.
func (k *Key) WritePrivate(w io.Writer, passphrase []byte) error {
	e := k.entity
	if len(passphrase) > 0 {
		var err error
		if e, err = k.locked(passphrase); err != nil {
			return err
		}
	}
	a, err := armor.Encode(w, openpgp.PrivateKeyType, nil)
	if err != nil {
		return err
	}
	if err := e.SerializePrivateWithoutSigning(a, nil); err != nil {
		return err
	}
	return a.Close()
}

// locked returns a copy of the key whose private parts are encrypted with
// passphrase, leaving k unlocked.
func (k *Key) locked(passphrase []byte) (*openpgp.Entity, error) {
	var buf bytes.Buffer
	if err := k.entity.SerializePrivateWithoutSigning(&buf, nil); err != nil {
		return nil, err
	}
	list, err := openpgp.ReadKeyRing(&buf)
	if err != nil {
		return nil, fmt.Errorf("copy key: %w", err)
	}
	if err := list[0].EncryptPrivateKeys(passphrase, nil); err != nil {
		return nil, fmt.Errorf("protect key: %w", err)
	}
	return list[0], nil
}

// Files are the paths WriteFiles wrote.
type Files struct {
	Private string // armored private key, mode 0600
	Public  string // armored public key, RPM-GPG-KEY-<name>
}

// WriteFiles writes the private key as <name>.private.asc (mode 0600) and the
// public key as RPM-GPG-KEY-<name> into dir, refusing to overwrite either.
func (k *Key) WriteFiles(dir, name string, passphrase []byte) (Files, error) {
	if name == "" || strings.ContainsAny(name, "/\\") || name != filepath.Clean(name) || strings.HasPrefix(name, ".") {
		return Files{}, fmt.Errorf("key file name %q: must be a plain file name", name)
	}
	files := Files{
		Private: filepath.Join(dir, name+".private.asc"),
		Public:  filepath.Join(dir, "RPM-GPG-KEY-"+name),
	}
	for _, p := range []string{files.Private, files.Public} {
		if _, err := os.Lstat(p); err == nil {
			return Files{}, fmt.Errorf("%s already exists; not overwriting a key", p)
		}
	}
	var priv, pub bytes.Buffer
	if err := k.WritePrivate(&priv, passphrase); err != nil {
		return Files{}, fmt.Errorf("encode private key: %w", err)
	}
	if err := k.WritePublic(&pub); err != nil {
		return Files{}, fmt.Errorf("encode public key: %w", err)
	}
	if err := writeFileAtomic(files.Private, priv.Bytes(), 0o600); err != nil {
		return Files{}, err
	}
	if err := writeFileAtomic(files.Public, pub.Bytes(), 0o644); err != nil {
		os.Remove(files.Private)
		return Files{}, err
	}
	return files, nil
}
