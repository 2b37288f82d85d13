package sign

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// realRPMs returns the real packages in ../shared/data used as fuzz seeds.
func realRPMs(f *testing.F) []string {
	var paths []string
	for _, dir := range []string{"centos-signed", "go-rpmutils"} {
		p, _ := filepath.Glob(filepath.Join(testutil.SharedData(f, "rpm", dir), "*.rpm"))
		paths = append(paths, p...)
	}
	return paths
}

// FuzzReadRPMHeaders feeds arbitrary bytes to the RPM header parser; what
// parses must survive re-encoding its signature header.
//
// Run it with -fuzzminimizetime 2x: minimising a multi-kilobyte interesting
// input otherwise takes the worker minutes, during which no execs count.
func FuzzReadRPMHeaders(f *testing.F) {
	for _, p := range realRPMs(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		// The headers and a little payload: the fuzzer mutates large inputs slowly.
		rf, err := readRPMHeaders(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			f.Fatalf("%s: %v", p, err)
		}
		f.Add(data[:min(len(data), int(rf.dataStart)+64)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rf, err := readRPMHeaders(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		enc := encodeSignatureHeader(rf.sig.entries)
		if len(enc)%8 != 0 {
			t.Fatalf("signature header of %d bytes is not padded to 8", len(enc))
		}
		file := slices.Concat(rf.lead, enc, rf.main.raw)
		again, err := readRPMHeaders(bytes.NewReader(file), int64(len(file)))
		if err != nil {
			t.Fatalf("re-encoded signature header does not parse: %v", err)
		}
		for tag, e := range rf.sig.entries {
			g := again.sig.entries[tag]
			if g.typ != e.typ || g.count != e.count || !bytes.Equal(g.data, e.data) && fixedSize(e.typ) > 0 {
				t.Fatalf("tag %d changed in re-encoding: %+v -> %+v", tag, e, g)
			}
		}
	})
}

// FuzzParseSignature feeds arbitrary bytes to the v3/v4 signature packet parser.
func FuzzParseSignature(f *testing.F) {
	for _, p := range realRPMs(f) {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		rf, err := readRPMHeaders(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			continue
		}
		for _, tag := range []int32{tagRSAHeader, tagDSAHeader, tagPGP, tagGPG} {
			if b := rf.sig.bin(tag); b != nil {
				f.Add(b)
			}
		}
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 1024) // small: only exercises the code paths
	if err != nil {
		f.Fatal(err)
	}
	pub := packet.NewRSAPublicKey(time.Now(), &rsaKey.PublicKey)
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := parseSignature(data)
		if err != nil {
			return
		}
		if s.v3 == nil && s.v4 == nil {
			t.Fatal("parsed signature has no body")
		}
		if s.v3 != nil {
			_ = s.v3.verify(s.hash.New(), pub)
		}
	})
}

const fuzzPass = "fuzz-secret-passphrase"

// FuzzParseKey feeds arbitrary bytes to the private key and keyring
// loaders; they must fail cleanly without quoting the input.
func FuzzParseKey(f *testing.F) {
	dir := testutil.SharedData(f, "rpm", "centos-signed")
	keys, _ := filepath.Glob(filepath.Join(dir, "RPM-GPG-KEY-*"))
	for _, k := range keys {
		data, err := os.ReadFile(k)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, pass := range []string{"", fuzzPass} {
		var priv bytes.Buffer
		if err := testKey(f, Ed25519).WritePrivate(&priv, []byte(pass)); err != nil {
			f.Fatal(err)
		}
		f.Add(priv.Bytes())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		// No passphrase: unlocking runs the key's own S2K parameters, which
		// a mutated key can make arbitrarily expensive (Argon2 memory).
		k, err := ParseKey(bytes.NewReader(data), nil)
		if err == nil && k.KeyID() == "" {
			t.Fatal("parsed key without an ID")
		}
		if err != nil && bytes.Contains([]byte(err.Error()), []byte("PRIVATE KEY")) {
			t.Fatalf("error quotes the key: %v", err)
		}
		kr, err := ParseKeyring(bytes.NewReader(data))
		if err == nil && len(kr.KeyIDs()) == 0 {
			t.Fatal("keyring parsed without keys")
		}
	})
}
