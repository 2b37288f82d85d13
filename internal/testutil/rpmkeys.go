package testutil

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// RPMKeys returns a check of a package's OpenPGP signature by rpmkeys
// --checksig against a private rpm database in a temporary root holding
// only the given armored public keys: it returns rpmkeys' output, and an
// error when rpmkeys does not accept the signature.
func RPMKeys(t testing.TB, publicKeys ...[]byte) func(pkg string) (string, error) {
	t.Helper()
	RequireTool(t, "rpmkeys")
	root, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range publicKeys {
		pub := filepath.Join(root, fmt.Sprintf("pub%d.asc", i))
		if err := os.WriteFile(pub, k, 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command("rpmkeys", "--root", root, "--import", pub).CombinedOutput(); err != nil {
			t.Fatalf("rpmkeys --import %s: %v\n%s", pub, err, out)
		}
	}
	return func(pkg string) (string, error) {
		out, err := exec.Command("rpmkeys", "--root", root, "--checksig",
			"--define", "_pkgverify_level signature", pkg).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
}
