package sign

import (
	"path/filepath"
	"testing"
)

// BenchmarkSignOneRPM signs one small RPM repeatedly with an RSA 4096 key.
func BenchmarkSignOneRPM(b *testing.B) {
	dir := b.TempDir()
	pkg := buildRPM(b, "one")
	s := NewSigner(testKey(b, RSA4096))
	dst := filepath.Join(dir, "out.rpm")
	for b.Loop() {
		if err := s.SignRPMTo(pkg, dst); err != nil {
			b.Fatal(err)
		}
	}
}
