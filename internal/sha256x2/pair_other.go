//go:build !amd64

package sha256x2

// hasSHANI is false: only amd64 has blocks2.
const hasSHANI = false

// blocks2 is never called without hasSHANI.
func blocks2(ha *[8]uint32, pa []byte, hb *[8]uint32, pb []byte) {
	panic("sha256x2: blocks2 without the SHA extensions")
}
