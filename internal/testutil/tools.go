// Package testutil holds helpers shared by kabiforge's tests.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// RequireTool returns the path of an executable the test needs. When the tool
// is missing the test fails under CI (CI=true) and is skipped elsewhere.
func RequireTool(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Unavailable(t, "%s not installed (run scripts/ensure-tools.sh): %v", name, err)
	}
	return p
}

// Unavailable stops a test whose prerequisite is missing: it fails under CI
// (CI=true), where every prerequisite must be installed, and skips elsewhere.
func Unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") == "true" {
		t.Fatalf("required in CI: "+format, args...)
	}
	t.Skipf(format, args...)
}

// RepoRoot returns the root of the kabiforge source tree.
func RepoRoot(t testing.TB) string {
	t.Helper()
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate source tree")
	}
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// SharedData returns the path of a file under ../shared/data, the real public
// data the project tests against. It fails under CI when the data is missing
// and skips elsewhere.
func SharedData(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{RepoRoot(t), "..", "shared", "data"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		Unavailable(t, "shared data %s missing: %v", p, err)
	}
	return p
}

// ArtifactDir returns a folder for files a person may want to look at after
// the test (screenshots): $KABIFORGE_TEST_ARTIFACTS when set, else a folder
// under the test's temporary directory that is kept until the test ends.
func ArtifactDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KABIFORGE_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// SharedRPMs returns the real packages under ../shared/data/rpm that tests
// of package reading share: CentOS's signed ones, go-rpmutils' and
// createrepo_c's test packages. It fails when there are fewer than 20.
func SharedRPMs(t testing.TB) []string {
	t.Helper()
	var paths []string
	for _, dir := range []string{"centos-signed", "go-rpmutils", filepath.Join("createrepo_c", "packages")} {
		found, _ := filepath.Glob(filepath.Join(SharedData(t, "rpm", dir), "*.rpm"))
		paths = append(paths, found...)
	}
	if len(paths) < 20 {
		t.Fatalf("only %d shared packages", len(paths))
	}
	return paths
}
