//go:build mock

package workflows_test

import (
	"cmp"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestRealKernelsEndToEndMock is TestRealKernelsEndToEnd with the mock
// builder, run against real mock (go test -tags mock; the environment as
// for internal/build's mock suite: KABIFORGE_MOCK_TEMPLATE,
// KABIFORGE_MOCK_CONFIGDIR, KABIFORGE_MOCK_USER): every kernel SRPM is
// rebuilt in mock, each kmod in mock against the new kernel-devel that
// mock's dnf installs from the deps repository, and dnf installs the result.
// kabiforge's kABI dependency generator runs inside the buildroot from a
// bind mount. Nothing is signed: the offline buildroot has no sbsign for
// the kernel image (internal/build's TestRealMockSignsModules signs a kmod
// in real mock).
func TestRealKernelsEndToEndMock(t *testing.T) {
	testutil.RequireTool(t, "mock")
	n1Tree, n2Tree := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	const tools = "/usr/libexec/kabiforge"
	m := &build.Mock{Template: cmp.Or(os.Getenv("KABIFORGE_MOCK_TEMPLATE"), "centos-stream-8-x86_64"),
		ConfigDir: os.Getenv("KABIFORGE_MOCK_CONFIGDIR"), Isolation: cmp.Or(os.Getenv("KABIFORGE_MOCK_ISOLATION"), "simple"),
		User: os.Getenv("KABIFORGE_MOCK_USER"), Dist: ".el8",
		BindMounts: map[string]string{filepath.Dir(kftest.Kabiforge(t)): tools},
		Macros:     map[string]string{"__kabiforge": tools + "/kabiforge"}}
	p := newPipeline(t, pipelineSetup{builder: m, name: "mock", version: "6.1.0", build: time.Hour, unsigned: true})
	runRealKernels(t, p, demo.RealKernel{Tree: n1Tree, Release: "47"}, demo.RealKernel{Tree: n2Tree, Release: "57"})
}
