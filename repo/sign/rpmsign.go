package sign

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"runtime"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Signer signs RPMs and files with one key. It is safe for concurrent use.
type Signer struct {
	key *Key
	now func() time.Time
}

// NewSigner returns a Signer using key.
func NewSigner(key *Key) *Signer {
	return &Signer{key: key, now: time.Now}
}

// At returns a Signer with the same key whose signatures carry the creation
// time t instead of the current time: with a deterministic signature scheme
// (RSA PKCS #1 v1.5, EdDSA) the same package signed twice at t is the same
// bytes, which reproducible packages need.
func (s *Signer) At(t time.Time) *Signer {
	return &Signer{key: s.key, now: func() time.Time { return t }}
}

// Key returns the signer's key.
func (s *Signer) Key() *Key { return s.key }

// SignRPM signs the RPM at path in place, replacing any signature it had.
// The file is replaced atomically: on error it is left untouched.
func (s *Signer) SignRPM(path string) error {
	return s.SignRPMTo(path, path)
}

// SignRPMTo writes a signed copy of the RPM src to dst (which may be src).
//
// Like rpmsign, it adds an OpenPGP signature over the main header (RSAHEADER,
// or DSAHEADER for EdDSA keys); packages without a payload digest in their
// header (built by rpm < 4.14) also get one over header and payload (SIGPGP
// or SIGGPG). Old signatures are dropped. The header digests and the payload
// digest are checked while copying, so a corrupt package is refused.
func (s *Signer) SignRPMTo(src, dst string) error {
	if err := s.signRPM(src, dst); err != nil {
		return fmt.Errorf("sign %s: %w", src, err)
	}
	return nil
}

func (s *Signer) signRPM(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return errors.New("not a regular file")
	}
	f, err := readRPMHeaders(in, st.Size())
	if err != nil {
		return err
	}
	if err := checkHeaderDigests(f); err != nil {
		return err
	}
	sigs, err := s.rpmSignatures(f, payloadReader(in, f, st.Size()))
	if err != nil {
		return err
	}
	newSig := encodeSignatureHeader(sigs)
	if _, err := in.Seek(f.mainStart, io.SeekStart); err != nil {
		return err
	}
	return replaceFile(dst, st.Mode().Perm(), func(w io.Writer) error {
		if _, err := w.Write(f.lead); err != nil {
			return err
		}
		if _, err := w.Write(newSig); err != nil {
			return err
		}
		_, err := io.Copy(w, in)
		return err
	})
}

// rpmSignatures hashes the package (reading the payload from r) and returns
// the new signature header entries.
func (s *Signer) rpmSignatures(f *rpmFile, r io.Reader) (map[int32]headerEntry, error) {
	headerHash := sha256.New()
	headerHash.Write(f.main.raw)
	var whole hash.Hash
	if f.main.str(tagPayloadDigest) == "" {
		whole = sha256.New()
	}
	if err := checkPayload(f, r, nonNil(whole)...); err != nil {
		return nil, err
	}

	created := s.now()
	key := s.key.signer
	headerTag, wholeTag := tagRSAHeader, int32(tagPGP)
	if key.PubKeyAlgo != packet.PubKeyAlgoRSA && key.PubKeyAlgo != packet.PubKeyAlgoRSASignOnly {
		headerTag, wholeTag = tagDSAHeader, tagGPG
	}
	entries := make(map[int32]headerEntry, len(f.sig.entries)+2)
	for t, e := range f.sig.entries {
		switch t {
		case tagDSAHeader, tagRSAHeader, tagPGP, tagGPG, tagOpenPGP, tagReservedSpace:
			continue
		}
		entries[t] = e
	}
	sig, err := makeSignature(headerHash, key, created)
	if err != nil {
		return nil, err
	}
	entries[int32(headerTag)] = headerEntry{tag: int32(headerTag), typ: rpm.TypeBin, count: int32(len(sig)), data: sig}
	if whole != nil { // no payload digest: sign header and payload too
		sig, err := makeSignature(whole, key, created)
		if err != nil {
			return nil, err
		}
		entries[wholeTag] = headerEntry{tag: wholeTag, typ: rpm.TypeBin, count: int32(len(sig)), data: sig}
	}
	return entries, nil
}

// SignRPMs signs the RPMs at paths in place with up to workers goroutines
// (GOMAXPROCS when workers <= 0). progress, when not nil, is called after
// each package. Every package is checked against its digests first
// (rpm.CheckFiles): one corrupt package and none is signed. Otherwise it stops at
// the first error and returns it.
func (s *Signer) SignRPMs(ctx context.Context, paths []string, workers int, progress func(done int, path string)) error {
	if err := rpm.CheckFiles(ctx, paths); err != nil {
		return err
	}
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan string)
	var (
		mu       sync.Mutex
		done     int
		firstErr error
		wg       sync.WaitGroup
	)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range jobs {
				err := s.SignRPM(p)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				if err == nil {
					done++
					if progress != nil {
						progress(done, p)
					}
				}
				mu.Unlock()
			}
		}()
	}
feed:
	for _, p := range paths {
		select {
		case jobs <- p:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	return ctx.Err()
}

func nonNil(hs ...hash.Hash) []hash.Hash {
	var out []hash.Hash
	for _, h := range hs {
		if h != nil {
			out = append(out, h)
		}
	}
	return out
}
