package testutil

import (
	"fmt"
	"os/exec"
)

// BuildKabiforge builds cmd/kabiforge from this tree into dst as `make
// build` does (stripped: `-s -w`), so that tests and benchmarks run the
// binary users get.
func BuildKabiforge(dst string) error {
	cmd := exec.Command("go", "build", "-ldflags=-s -w", "-o", dst, "github.com/kabiforge/kabiforge/cmd/kabiforge")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build kabiforge: %v\n%s", err, out)
	}
	return nil
}
