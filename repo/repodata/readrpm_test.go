package repodata

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// TestReadChecksPackagesAsCheckFileDoes reads every shared test package
// whole, cut short and with a payload byte flipped, read whole and
// streamed: each read fails exactly when rpm.CheckFile (which agrees with
// rpmkeys) fails, and a read that succeeds gives the file's sha256.
func TestReadChecksPackagesAsCheckFileDoes(t *testing.T) {
	paths := testutil.SharedRPMs(t)
	work := t.TempDir()
	defer func(n int64) { bigPackage = n }(bigPackage)
	for _, src := range paths {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		l, err := rpm.ReadLayout(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		flipped := bytes.Clone(data)
		flipped[l.PayloadStart+(int64(len(data))-l.PayloadStart)/2] ^= 0x40
		for name, content := range map[string][]byte{"whole": data, "short": data[:len(data)-1], "flipped": flipped} {
			p := filepath.Join(work, name+"-"+filepath.Base(src))
			if err := os.WriteFile(p, content, 0o644); err != nil {
				t.Fatal(err)
			}
			want := rpm.CheckFile(p)
			for _, big := range []int64{1 << 40, 0} { // read whole, then streamed
				var r pkgReader
				bigPackage = big
				_, sum, _, err := r.read(p, nil)
				if (err == nil) != (want == nil) {
					t.Fatalf("%s (over %d bytes streamed): read error %v, CheckFile error %v", p, big, err, want)
				}
				if file := sha256.Sum256(content); err == nil && sum != hex.EncodeToString(file[:]) {
					t.Errorf("%s: checksum %s, want %x", p, sum, file)
				}
			}
		}
	}
}
