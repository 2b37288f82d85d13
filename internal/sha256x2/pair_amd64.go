package sha256x2

import "golang.org/x/sys/cpu"

// hasSHANI reports whether the CPU has the SHA extensions and the SSSE3 and
// SSE4.1 instructions blocks2 uses.
var hasSHANI = cpu.X86.HasSSSE3 && cpu.X86.HasSSE41 && shaExtensions()

// shaExtensions reads CPUID leaf 7's SHA bit.
func shaExtensions() bool {
	if max, _, _, _ := cpuid(0, 0); max < 7 {
		return false
	}
	_, b, _, _ := cpuid(7, 0)
	return b&(1<<29) != 0
}

//go:noescape
func blocks2(ha *[8]uint32, pa []byte, hb *[8]uint32, pb []byte)

func cpuid(leaf, sub uint32) (a, b, c, d uint32)
