// Package kftest gives tests the real kernel family: Need returns an
// extracted ABI, downloading it into the user cache on first use, and fails
// the test under CI=true (skips elsewhere) when it cannot.
package kftest

import (
	"context"
	"os/exec"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// tools are the host commands fetching and building against the family needs.
var tools = []string{"apt-get", "dpkg-deb", "make", "gcc-12"}

// Need returns abi's tree (e.g. "6.1.0-47"), fetched into the default cache.
// A first download is about 40 MB per ABI and takes a minute at most.
func Need(t testing.TB, abi string) *kernelfamily.Tree {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			testutil.Unavailable(t, "real kernel family: %s not installed (scripts/ensure-tools.sh installs it)", tool)
		}
	}
	f, err := kernelfamily.NewFetcher("")
	if err != nil {
		testutil.Unavailable(t, "real kernel family: %v", err)
	}
	f.Progress = func(line string) { t.Log(line) }
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	tree, err := f.Tree(ctx, abi)
	if err != nil {
		testutil.Unavailable(t, "real kernel family: %v", err)
	}
	return tree
}
