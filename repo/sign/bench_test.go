package sign

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

const benchPackages = 500

// BenchmarkSign500 signs the same 500 unsigned RPMs with the Signer and with
// `rpmsign --addsign` (gpg holding the same passphrase-less key), for an RSA
// 4096 and an Ed25519 key, restoring the unsigned copies before each round.
// Both produce one header signature per package (rpm 4.18 packages carry a
// payload digest).
func BenchmarkSign500(b *testing.B) {
	testutil.RequireTool(b, "rpmsign")
	gpg := testutil.RequireTool(b, "gpg")
	dir := b.TempDir()
	pristine := filepath.Join(dir, "pristine")
	if err := os.Mkdir(pristine, 0o755); err != nil {
		b.Fatal(err)
	}
	var built []string
	for i := range 5 {
		built = append(built, buildRPM(b, fmt.Sprintf("bench%d", i)))
	}
	for i := range benchPackages {
		copyFile(b, built[i%len(built)], filepath.Join(pristine, fmt.Sprintf("pkg%03d-1.0-1.el8.noarch.rpm", i)))
	}
	work := filepath.Join(dir, "work")
	reset := func(b *testing.B) []string {
		b.StopTimer()
		defer b.StartTimer()
		os.RemoveAll(work)
		if err := os.Mkdir(work, 0o755); err != nil {
			b.Fatal(err)
		}
		var paths []string
		ents, _ := os.ReadDir(pristine)
		for _, e := range ents {
			p := filepath.Join(work, e.Name())
			copyFile(b, filepath.Join(pristine, e.Name()), p)
			paths = append(paths, p)
		}
		return paths
	}
	for _, algo := range []Algorithm{RSA4096, Ed25519} {
		b.Run(string(algo), func(b *testing.B) {
			key := testKey(b, algo)
			home := gpgHome(b, gpg, b.TempDir(), key)
			var kabiforge, rpmsign time.Duration
			b.Run("kabiforge", func(b *testing.B) {
				s := NewSigner(key)
				for b.Loop() {
					paths := reset(b)
					start := time.Now()
					if err := s.SignRPMs(context.Background(), paths, 0, nil); err != nil {
						b.Fatal(err)
					}
					kabiforge = time.Since(start)
				}
				b.ReportMetric(float64(benchPackages)/kabiforge.Seconds(), "pkgs/s")
			})
			b.Run("rpmsign", func(b *testing.B) {
				for b.Loop() {
					paths := reset(b)
					start := time.Now()
					args := append([]string{"--addsign",
						"--define", "_gpg_name " + key.KeyID(),
						"--define", "_gpg_path " + home,
						"--define", "__gpg " + gpg}, paths...)
					if out, err := exec.Command("rpmsign", args...).CombinedOutput(); err != nil {
						b.Fatalf("rpmsign: %v\n%s", err, out)
					}
					rpmsign = time.Since(start)
				}
				b.ReportMetric(float64(benchPackages)/rpmsign.Seconds(), "pkgs/s")
			})
			if kabiforge > 0 && rpmsign > 0 {
				b.Logf("signing %d RPMs with %s: kabiforge %v, rpmsign --addsign %v: %.1fx faster", benchPackages, algo,
					kabiforge.Round(time.Millisecond), rpmsign.Round(time.Millisecond), rpmsign.Seconds()/kabiforge.Seconds())
			}
		})
	}
}

// gpgHome makes a GnuPG home holding key's secret part, and stops its agent
// when the benchmark ends.
func gpgHome(b *testing.B, gpg, dir string, key *Key) string {
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		b.Fatal(err)
	}
	secret := filepath.Join(dir, "secret.asc")
	f, err := os.OpenFile(secret, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		b.Fatal(err)
	}
	if err := key.WritePrivate(f, nil); err != nil {
		b.Fatal(err)
	}
	f.Close()
	if out, err := exec.Command(gpg, "--homedir", home, "--batch", "--import", secret).CombinedOutput(); err != nil {
		b.Fatalf("gpg --import: %v\n%s", err, out)
	}
	b.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() })
	return home
}
