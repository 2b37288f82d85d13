package workflows_test

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// secret is a needle no history, log, SRPM or published file may hold.
type secret struct {
	what string
	data []byte
}

// secrets are the needles: the passphrase; a line of the armored OpenPGP
// secret key and the binary packet bytes it encodes; lines of the
// module-signing private key's PEM and the DER bytes they encode, and its
// DER's last 64 bytes. A PEM or
// armor line is 64 base64 characters, 48 bytes: in the binary form it is a
// run of bytes, and in a base64 encoding of the same binary starting at a
// line boundary (a []byte in JSON) it is a substring.
func (p *livePipeline) secrets() []secret {
	out := []secret{{"an armored secret key", []byte("PRIVATE KEY BLOCK")}, {"a PEM private key", []byte("BEGIN PRIVATE KEY")},
		{"the passphrase", []byte(passphrase)}}
	line := func(what, l string) {
		out = append(out, secret{what + " (text)", []byte(l)})
		if b, err := base64.StdEncoding.DecodeString(l); err == nil && len(b) >= 32 {
			out = append(out, secret{what + " (binary)", b})
		}
	}
	// The first body lines of an armored secret key are its public key
	// packet, which RPM-GPG-KEY rightly holds too: take a line near the
	// end, inside the secret key material.
	armor := strings.Split(strings.TrimSpace(p.keyArmor), "\n")
	line("the OpenPGP secret key", armor[len(armor)-4])
	if p.modKeyPEM != nil {
		block, _ := pem.Decode(p.modKeyPEM)
		if block == nil {
			p.t.Fatal("module-signing key: no PEM block")
		}
		for _, l := range privatePEMLines(p.modKeyPEM) {
			line("the module-signing private key", l)
		}
		out = append(out, secret{"the module-signing private key (DER)", block.Bytes[len(block.Bytes)-64:]})
	}
	return out
}

// privatePEMLines returns three full body lines of a PEM private key from
// its end: the key's first lines hold the public modulus, which the
// certificate rightly holds too, its last ones private material (CRT
// values).
func privatePEMLines(key []byte) []string {
	lines := strings.Split(strings.TrimSpace(string(key)), "\n")
	body := lines[1 : len(lines)-1]        // without BEGIN and END
	return body[len(body)-4 : len(body)-1] // without the last, short one
}

// findSecrets names the secrets data holds.
func findSecrets(secrets []secret, data []byte) []string {
	var found []string
	for _, s := range secrets {
		if bytes.Contains(data, s.data) {
			found = append(found, s.what)
		}
	}
	return found
}

// payloadData matches a Temporal payload's data in a history's JSON, which
// protojson writes as base64.
var payloadData = regexp.MustCompile(`"data":\s*"([A-Za-z0-9+/=]+)"`)

// historySecrets names the secrets a workflow history's JSON holds, as
// written and in its payloads' decoded data.
func historySecrets(secrets []secret, history []byte) []string {
	found := findSecrets(secrets, history)
	for _, m := range payloadData.FindAllSubmatch(history, -1) {
		if b, err := base64.StdEncoding.DecodeString(string(m[1])); err == nil {
			found = append(found, findSecrets(secrets, b)...)
		}
	}
	return found
}

// checkNoKeyIn greps every file under dir (artifacts with logs and SRPMs,
// the published repository) for private key material (see keyMaterialIn).
func (p *livePipeline) checkNoKeyIn(dir string) {
	p.t.Helper()
	found, st := keyMaterialIn(p.secrets(), dir)
	for _, f := range found {
		p.t.Error(f)
	}
	p.t.Logf("grepped %d files under %s for key material, %d packages (%d payload files)", st.files, dir, st.packages, st.payloads)
	if st.files < 10 || st.packages == 0 || st.payloads == 0 {
		p.t.Errorf("grepped only %+v under %s", st, dir)
	}
}

// grepStats counts what keyMaterialIn read.
type grepStats struct{ files, packages, payloads int }

// keyMaterialIn says which files under dir hold which secrets: each file
// as it is, decompressed when it is gzip, xz or zstd (repodata), and, for
// an RPM or SRPM, every file of its payload (decompressed too: an SRPM's
// source tarballs). Packages with the same main header (a signed copy of a
// build, the published copy of a signed package) have the same payload,
// read once. The OpenPGP key file the worker loads (signing.asc) is left
// out.
func keyMaterialIn(secrets []secret, dir string) ([]string, grepStats) {
	var paths []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() && !strings.HasSuffix(path, "signing.asc") {
			paths = append(paths, path)
		}
		return nil
	})
	var (
		mu    sync.Mutex
		found []string
		st    = grepStats{files: len(paths)}
		seen  = map[[32]byte]bool{}
	)
	report := func(path string, what []string) {
		mu.Lock()
		defer mu.Unlock()
		for _, w := range what {
			found = append(found, path+" holds "+w)
		}
	}
	work := make(chan string)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			for path := range work {
				data, err := os.ReadFile(path)
				if err != nil {
					report(path, []string{"an unreadable file: " + err.Error()})
					continue
				}
				report(path, findSecrets(secrets, expand(data)))
				pkg, err := rpm.Open(path)
				if err != nil {
					continue // not an RPM
				}
				h := sha256.Sum256(data[pkg.HeaderStart:pkg.HeaderEnd])
				mu.Lock()
				dup := seen[h]
				seen[h] = true
				st.packages++
				mu.Unlock()
				if dup {
					continue
				}
				err = pkg.WalkPayload(func(f rpm.File, r io.Reader) error {
					body, err := io.ReadAll(r)
					report(path+":"+f.Path, findSecrets(secrets, expand(body)))
					mu.Lock()
					st.payloads++
					mu.Unlock()
					return err
				})
				if err != nil {
					report(path, []string{"an unreadable payload: " + err.Error()})
				}
			}
		})
	}
	for _, path := range paths {
		work <- path
	}
	close(work)
	wg.Wait()
	sort.Strings(found)
	return found, st
}

// expand returns data followed by its decompressed form when it is gzip,
// xz or zstd.
func expand(data []byte) []byte {
	var r io.Reader
	var err error
	switch {
	case bytes.HasPrefix(data, []byte{0x1f, 0x8b}):
		r, err = gzip.NewReader(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte{0xfd, '7', 'z', 'X', 'Z', 0}):
		r, err = xz.NewReader(bytes.NewReader(data))
	case bytes.HasPrefix(data, []byte{0x28, 0xb5, 0x2f, 0xfd}):
		var d *zstd.Decoder
		if d, err = zstd.NewReader(bytes.NewReader(data)); err == nil {
			defer d.Close()
			r = d
		}
	default:
		return data
	}
	if err != nil {
		return data
	}
	plain, err := io.ReadAll(r)
	if err != nil {
		return append(data, fmt.Appendf(nil, "(decompression failed: %v)", err)...)
	}
	return append(append(data, 0), plain...)
}

// The grep finds key material where a leak would put it: a line of the
// module-signing key's PEM gzipped inside an RPM's payload, its DER bytes
// in a plain file, and the OpenPGP secret key's bytes base64-encoded in a
// history's payload; it finds nothing in a package without them, nor in
// the public key or the certificate.
func TestKeyMaterialGrepFindsALeak(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	p := &livePipeline{t: t}
	signer := p.signer(t.TempDir())
	p.moduleKey()
	pemLine := privatePEMLines(p.modKeyPEM)[1]
	spec := testutil.SimpleSpec("leak", "1.0", "1")
	spec = strings.Replace(spec, "%install\n", "%install\nmkdir -p %{buildroot}/usr/share/leak\necho '"+pemLine+"' | gzip -n > %{buildroot}/usr/share/leak/key.gz\n", 1)
	spec = strings.Replace(spec, "%files\n", "%files\n/usr/share/leak/key.gz\n", 1)
	dir := t.TempDir()
	for i, path := range append(testutil.RPMBuild(t, spec), testutil.RPMBuild(t, testutil.SimpleSpec("clean", "1.0", "1"))...) {
		if err := os.Rename(path, filepath.Join(dir, fmt.Sprint(i, ".rpm"))); err != nil {
			t.Fatal(err)
		}
	}
	block, _ := pem.Decode(p.modKeyPEM)
	var public bytes.Buffer
	if err := signer.Key().WritePublic(&public); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{"der": append([]byte("x"), block.Bytes...), // leaks
		"public.asc": public.Bytes(), "cert.der": p.modKey.CertificateDER()} // public, no leak
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	found, st := keyMaterialIn(p.secrets(), dir)
	got := strings.Join(found, "\n")
	if !strings.Contains(got, "0.rpm:/usr/share/leak/key.gz holds the module-signing private key (text)") ||
		!strings.Contains(got, "/der holds the module-signing private key (DER)") || strings.Contains(got, "1.rpm") ||
		strings.Contains(got, "public.asc") || strings.Contains(got, "cert.der") || st.packages != 2 {
		t.Errorf("found (%+v):\n%s", st, got)
	}
	armor := strings.Split(strings.TrimSpace(p.keyArmor), "\n")
	secretBytes, _ := base64.StdEncoding.DecodeString(armor[len(armor)-4])
	history := fmt.Appendf(nil, `{"payloads": [{"data": %q}]}`, base64.StdEncoding.EncodeToString(append([]byte("{\"k\":1}"), secretBytes...)))
	if found := historySecrets(p.secrets(), history); len(found) != 1 || found[0] != "the OpenPGP secret key (binary)" {
		t.Errorf("history secrets %q", found)
	}
}
