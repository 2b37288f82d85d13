package sha256x2

import (
	"bytes"
	"crypto/sha256"
	"math/rand/v2"
	"os"
	"regexp"
	"testing"
)

// check writes a and b to p in the given pieces and compares its sums with
// crypto/sha256's.
func check(t *testing.T, p *Pair, a, b []byte, cuts []int) {
	t.Helper()
	ra, rb := a, b
	for _, c := range cuts {
		ca, cb := min(c, len(ra)), min(c*3/2, len(rb))
		p.Write(ra[:ca], rb[:cb])
		ra, rb = ra[ca:], rb[cb:]
	}
	p.Write(ra, rb)
	ga, gb := p.Sums()
	if wa := sha256.Sum256(a); ga != wa {
		t.Fatalf("stream a (%d bytes, cuts %v): got %x, want %x", len(a), cuts, ga, wa)
	}
	if wb := sha256.Sum256(b); gb != wb {
		t.Fatalf("stream b (%d bytes, cuts %v): got %x, want %x", len(b), cuts, gb, wb)
	}
}

// pairs returns the Pairs to test: the one New makes and, when that uses the
// SHA extensions, the crypto/sha256 fallback.
func pairs() map[string]func() *Pair {
	m := map[string]func() *Pair{"New": New}
	if hasSHANI {
		m["fallback"] = func() *Pair { return &Pair{ha: sha256.New(), hb: sha256.New()} }
	}
	return m
}

func TestPairMatchesSHA256(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	data := make([]byte, 1<<20)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	for name, newPair := range pairs() {
		t.Run(name, func(t *testing.T) {
			// Every length around the padding's edges, whole.
			for n := range 3*blockSize + 1 {
				check(t, newPair(), data[:n], data[7:7+n/2], nil)
			}
			// Random lengths, offsets and cuts: one stream a tail of the
			// other, as a payload is of its package.
			for range 300 {
				n := rng.IntN(len(data) / 2)
				skip := rng.IntN(n + 1)
				var cuts []int
				for range rng.IntN(6) {
					cuts = append(cuts, rng.IntN(n/2+1))
				}
				check(t, newPair(), data[:n], data[skip:n], cuts)
			}
		})
	}
}

func TestSumsDoesNotEndTheStreams(t *testing.T) {
	a, b := bytes.Repeat([]byte("a"), 1000), bytes.Repeat([]byte("b"), 70)
	p := New()
	p.Write(a[:500], b[:10])
	p.Sums()
	p.Write(a[500:], b[10:])
	ga, gb := p.Sums()
	if ga != sha256.Sum256(a) || gb != sha256.Sum256(b) {
		t.Fatal("a Sums between writes changed the digests")
	}
}

func TestUsesSHAExtensionsWhenTheCPUHasThem(t *testing.T) {
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Fatalf("the CPU's flags: %v", err)
	}
	want := true
	for _, flag := range []string{"sha_ni", "ssse3", "sse4_1"} {
		want = want && regexp.MustCompile(`(?m)^flags\s*:.*\b`+flag+`\b`).Match(info)
	}
	if got := New().ha == nil; got != want {
		t.Fatalf("New uses the SHA extensions: %v; /proc/cpuinfo says the CPU has them: %v", got, want)
	}
}

// BenchmarkPair compares a Pair with two crypto/sha256 digests on the same
// 256 KiB pieces (how a package is read), one stream offset from the other.
func BenchmarkPair(b *testing.B) {
	buf := make([]byte, 256<<10)
	for name, newPair := range map[string]func() *Pair{"Pair": New, "crypto-sha256": func() *Pair {
		return &Pair{ha: sha256.New(), hb: sha256.New()}
	}} {
		b.Run(name, func(b *testing.B) {
			p := newPair()
			b.SetBytes(2 * int64(len(buf)))
			for b.Loop() {
				p.Write(buf, buf[100:])
			}
		})
	}
}

func FuzzPair(f *testing.F) {
	f.Add([]byte("abc"), uint16(1), uint16(0))
	f.Add(bytes.Repeat([]byte{0x5a}, 200), uint16(63), uint16(65))
	f.Fuzz(func(t *testing.T, data []byte, skip, cut uint16) {
		s := int(skip) % (len(data) + 1)
		check(t, New(), data, data[s:], []int{int(cut)})
	})
}
