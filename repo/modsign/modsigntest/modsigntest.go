// Package modsigntest lets a test binary stand in for `kabiforge modsign
// sign-buildroot` in the builds its tests run: TestMain calls Main first,
// and builds get Command as their signer.
package modsigntest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/kabiforge/kabiforge/repo/modsign"
)

// env marks a test binary started as a build's signer: "1" signs,
// "tamper" signs and then changes each signed module.
const env = "KABIFORGE_TEST_SIGNER"

// Command is the signer argv (before KEY CERT BUILDROOT) that re-runs this
// test binary as the signer.
func Command() []string {
	return []string{"/usr/bin/env", env + "=1", os.Args[0]}
}

// CommandAt is Command for a build that reaches this test binary's
// directory at dir, e.g. a mock buildroot it is bind-mounted into.
func CommandAt(dir string) []string {
	return []string{"/usr/bin/env", env + "=1", filepath.Join(dir, filepath.Base(os.Args[0]))}
}

// TamperCommand is a signer that signs every module and then tampers with
// it, as a compromised build would: one letter of its modinfo description
// changes case after the signature was made, so the package's file digests
// are over the changed bytes and only the module signature tells.
func TamperCommand() []string {
	return []string{"/usr/bin/env", env + "=tamper", os.Args[0]}
}

// Main signs a buildroot and exits when the binary was started by Command;
// otherwise it returns at once. Call it first in TestMain.
func Main() {
	mode := os.Getenv(env)
	if mode != "1" && mode != "tamper" {
		return
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "signer: want KEY CERT BUILDROOT")
		os.Exit(2)
	}
	s, err := modsign.SignBuildroot(context.Background(), os.Args[1], os.Args[2], os.Args[3])
	for _, m := range s.Modules {
		if err == nil && mode == "tamper" {
			err = tamper(filepath.Join(os.Args[3], m))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "signer:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// tamper changes the case of the first letter of a signed module's
// description.
func tamper(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	i := bytes.Index(data, []byte("description="))
	if i < 0 {
		return errors.New("tamper: " + path + " has no description")
	}
	data[i+len("description=")] ^= 0x20
	return os.WriteFile(path, data, 0o644)
}
