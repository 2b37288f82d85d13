package boot

import (
	"path/filepath"
	"testing"
)

// family is the real kernel family under test (temporary local stand-in
// until internal/kernelfamily lands).
type family struct{ oldest, newest string }

func realFamily(t *testing.T) family {
	return family{oldest: "6.1.0-47-cloud-amd64", newest: "6.1.0-57-cloud-amd64"}
}

func (f family) vmlinuz(t *testing.T, rel string) string {
	return "/tmp/bootgate/k" + rel[6:8] + "/boot/vmlinuz-" + rel
}

func (f family) module(t *testing.T, rel string) string {
	return filepath.Join("/tmp/bootgate/hello"+rel[6:8], "hello.ko")
}
