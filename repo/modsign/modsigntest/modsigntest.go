// Package modsigntest lets a test binary stand in for `kabiforge modsign
// sign-buildroot` in the builds its tests run: TestMain calls Main first,
// and builds get Command as their signer.
package modsigntest

import (
	"context"
	"fmt"
	"os"

	"github.com/kabiforge/kabiforge/repo/modsign"
)

// env marks a test binary started as a build's signer.
const env = "KABIFORGE_TEST_SIGNER"

// Command is the signer argv (before KEY CERT BUILDROOT) that re-runs this
// test binary as the signer.
func Command() []string {
	return []string{"/usr/bin/env", env + "=1", os.Args[0]}
}

// Main signs a buildroot and exits when the binary was started by Command;
// otherwise it returns at once. Call it first in TestMain.
func Main() {
	if os.Getenv(env) != "1" {
		return
	}
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "signer: want KEY CERT BUILDROOT")
		os.Exit(2)
	}
	if _, err := modsign.SignBuildroot(context.Background(), os.Args[1], os.Args[2], os.Args[3]); err != nil {
		fmt.Fprintln(os.Stderr, "signer:", err)
		os.Exit(1)
	}
	os.Exit(0)
}
