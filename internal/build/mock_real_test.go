//go:build mock

// Tests against real mock: go test -tags mock ./internal/build/ on a host (or
// in the worker image, see README.md) where mock runs. Without mock on PATH
// they fail under CI=true and skip elsewhere. The environment picks the
// setup:
//
//	KABIFORGE_MOCK_TEMPLATE   mock config to include, default centos-stream-9-x86_64
//	KABIFORGE_MOCK_CONFIGDIR  mock's config dir, default /etc/mock
//	KABIFORGE_MOCK_ISOLATION  simple (default) or nspawn (needs a privileged container)
//	KABIFORGE_MOCK_USER       the unprivileged user mock builds as when tests run as root
//
// With -update they rewrite testdata/mock from the logs real mock wrote.
package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/modsign/modsigntest"
)

// mockBase is where mock makes its buildroots.
const mockBase = "/var/lib/mock"

func realMock(t *testing.T) *Mock {
	t.Helper()
	testutil.RequireTool(t, "mock")
	return &Mock{Template: or(os.Getenv("KABIFORGE_MOCK_TEMPLATE"), "centos-stream-9-x86_64"),
		ConfigDir: os.Getenv("KABIFORGE_MOCK_CONFIGDIR"),
		Isolation: or(os.Getenv("KABIFORGE_MOCK_ISOLATION"), "simple"),
		User:      os.Getenv("KABIFORGE_MOCK_USER"),
		Dist:      ".el9"}
}

// record copies the logs of a real mock result dir into testdata/mock/name
// when the tests run with -update.
func record(t *testing.T, name, dir string) {
	t.Helper()
	if !*update {
		return
	}
	dst := filepath.Join("testdata", "mock", name)
	if err := os.RemoveAll(dst); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		t.Fatal(err)
	}
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	copyInto(t, dst, logs...)
}

// The kernel is rebuilt in mock; the kmod is rebuilt in mock against the
// kernel's packages handed over as the production build hands them over, a
// folder of bare RPMs; dnf installs the result.
func TestRealMockBuildsKernelThenKmodAgainstIt(t *testing.T) {
	m := realMock(t)
	ctx := context.Background()
	k := demo.BaseKernel()
	srpm, err := demo.KernelSRPM(t.TempDir(), k)
	if err != nil {
		t.Fatal(err)
	}
	var got lines
	start := time.Now()
	kres, err := m.Build(ctx, Request{SRPM: srpm, Arch: "x86_64", ResultDir: t.TempDir(), OnLog: got.add, Timeout: 30 * time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kernel rebuilt in mock in %v", time.Since(start).Round(time.Second))
	if len(kres.RPMs) != 4 || !got.has("Wrote:") {
		t.Fatalf("kernel result %+v; streamed Wrote: %v", kres, got.has("Wrote:"))
	}
	for _, want := range []string{"build.log", "root.log", "state.log"} {
		if !slices.ContainsFunc(kres.Logs, func(l string) bool { return filepath.Base(l) == want }) {
			t.Errorf("no %s in %v", want, kres.Logs)
		}
	}
	record(t, "success", filepath.Dir(kres.RPMs[0]))
	deps := t.TempDir()
	copyInto(t, deps, kres.RPMs...)

	ksrpm, err := demo.KmodSRPM(t.TempDir(), demo.Kmods(k.NVR)[1])
	if err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	mres, err := m.Build(ctx, Request{SRPM: ksrpm, Arch: "x86_64", ResultDir: t.TempDir(),
		Repos: []Repo{{Name: "deps", URL: "file://" + deps}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kmod rebuilt in mock in %v", time.Since(start).Round(time.Second))
	sym, _ := k.Symbol(demo.FragileSymbol)
	want := fmt.Sprintf("kernel(%s) = 0x%08x", demo.FragileSymbol, sym.CRC)
	if !slices.Contains(requires(t, mres.RPMs[0]), want) {
		t.Errorf("kmod lacks %q", want)
	}
	repo := t.TempDir()
	copyInto(t, repo, append(kres.RPMs, mres.RPMs...)...)
	createrepo(t, repo)
	if out, err := dnfInstall(t, []string{repo}, "kmod-"+demo.Kmods(k.NVR)[1].Name); err != nil {
		t.Fatalf("dnf install of the mock-built kmod: %v\n%s", err, out)
	}
}

func TestRealMockFailureTypes(t *testing.T) {
	m := realMock(t)
	dir := t.TempDir()
	_, err := m.Build(context.Background(), Request{SRPM: specSRPM(t, "fails.spec"), Arch: "x86_64", ResultDir: dir})
	var pe *PackageError
	if !errors.As(err, &pe) || !strings.Contains(strings.Join(pe.Tail, "\n"), "kabiforge-fails-marker") {
		t.Errorf("failing spec: err = %v, want a PackageError with the marker in its tail", err)
	}
	record(t, "build-failure", dir)
	dir = t.TempDir()
	_, err = m.Build(context.Background(), Request{SRPM: specSRPM(t, "missing-br.spec"), Arch: "x86_64", ResultDir: dir})
	var de *DependencyError
	if !errors.As(err, &de) || !slices.Contains(de.Missing, "kabiforge-no-such-devel >= 2.0") {
		t.Errorf("missing BuildRequires: err = %v, want a DependencyError naming it", err)
	}
	record(t, "missing-dep", dir)
	dir = t.TempDir()
	_, err = m.Build(context.Background(), Request{SRPM: specSRPM(t, "missing-br.spec"), Arch: "x86_64", ResultDir: dir,
		Repos: []Repo{{Name: "unreachable", URL: "http://127.0.0.1:9/kabiforge-no-repo/"}}})
	if !Retryable(err) {
		t.Errorf("unreachable repository: err = %v, want an infrastructure error", err)
	}
	record(t, "dnf-network", dir)
}

// Cancelling a build stops every process, and the build's buildroot is
// gone: nothing mounted under it, no directory for it in /var/lib/mock.
func TestRealMockCancel(t *testing.T) {
	m := realMock(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	var got lines
	go func() {
		for !got.has("kabiforge-sleeps: sleeping") && ctx.Err() == nil {
			time.Sleep(100 * time.Millisecond)
		}
		cancel()
	}()
	req := Request{SRPM: specSRPM(t, "sleeps.spec"), Arch: "x86_64", ResultDir: t.TempDir(), OnLog: got.add}
	root := filepath.Join(mockBase, rootName(m.Template, req)+"-"+uniqueExt(req))
	start := time.Now()
	_, err := m.Build(ctx, req)
	if !errors.Is(err, context.Canceled) || !got.has("kabiforge-sleeps: sleeping") {
		t.Fatalf("err = %v after %v, sleeping seen: %v", err, time.Since(start), got.has("kabiforge-sleeps: sleeping"))
	}
	t.Logf("cancelled and scrubbed in %v", time.Since(start).Round(time.Second))
	if n := countProcs(t, "61.4321"); n > 0 {
		t.Errorf("%d build processes survive the cancel", n)
	}
	mounts, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(mounts), root) {
		t.Errorf("mounts under %s survive the cancel:\n%s", root, mounts)
	}
	if _, err := os.Stat(root); !errors.Is(err, os.ErrNotExist) {
		entries, _ := os.ReadDir(mockBase)
		t.Errorf("buildroot %s survives the cancel (%v); %s holds %d entries", root, err, mockBase, len(entries))
	}
}

// Real mock signs a kmod's module the way the rpmbuild builder does: the
// key mounted into the buildroot for the build only, the signer (this test
// binary, bind-mounted) run after %install, the packaged module signed once
// with rpm's digest over the signed file; the key is in no SRPM, package,
// log or result file, and the staging dir that held it is gone.
func TestRealMockSignsModules(t *testing.T) {
	m := realMock(t)
	key, err := modsign.Generate("kabiforge mock test", 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := key.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	const tools = "/usr/libexec/kabiforge-test"
	m.BindMounts = map[string]string{filepath.Dir(os.Args[0]): tools}
	work, err := os.MkdirTemp("", "kabiforge-mock-work-") // mock's user reaches it; t.TempDir's parent is private
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(work) })
	if err := os.Chmod(work, 0o755); err != nil {
		t.Fatal(err)
	}
	m.WorkDir = work
	ms := &ModuleSigning{Key: priv, Cert: key.CertificateDER(), Command: modsigntest.CommandAt(tools)}
	module := []byte("\x7fELF a module body")
	srpm, err := demo.SRPM(t.TempDir(), "kmod-signtest.spec", []byte(strings.Replace(kmodSpec, "SIGNFILE", ":", 1)),
		map[string][]byte{"signtest.ko": module})
	if err != nil {
		t.Fatal(err)
	}
	resDir := t.TempDir()
	start := time.Now()
	res, err := m.Build(context.Background(), Request{SRPM: srpm, Arch: "x86_64", ResultDir: resDir, ModuleSigning: ms})
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(resDir, "mock.log"))
		t.Fatalf("%v\nmock.log:\n%s", err, log)
	}
	t.Logf("kmod built and signed in mock in %v", time.Since(start).Round(time.Second))
	checkSignedRPM(t, res.RPMs[0], key, module)
	var all []string
	entries, _ := os.ReadDir(resDir)
	for _, e := range entries {
		all = append(all, filepath.Join(resDir, e.Name()))
	}
	if len(all) < 4 {
		t.Errorf("result dir holds %d files, want the packages and mock's logs", len(all))
	}
	assertNoKey(t, priv, all...)
	if left, _ := os.ReadDir(m.WorkDir); len(left) != 0 {
		t.Errorf("the build left %d entries in its work dir (the key must go with it)", len(left))
	}
}
