package build

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// golden compares got with testdata/golden/name, rewriting it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", name, path, got, want)
	}
}

func TestMockConfigAndArgvGolden(t *testing.T) {
	for _, tc := range []struct {
		name string
		mock Mock
		req  Request
	}{
		{name: "kmod-el8",
			mock: Mock{Template: "eol/centos-stream-8-x86_64", Macros: map[string]string{"_with_signmodules": "1", "__kabiforge": "/usr/libexec/kabiforge/kabiforge"},
				BindMounts: map[string]string{"/usr/lib/kabiforge": "/usr/libexec/kabiforge"}},
			req: Request{SRPM: "/work/in/kmod-fragiledrv-2.3-2.el8.src.rpm", Arch: "x86_64", ResultDir: "/work/out/kmod-fragiledrv",
				Timeout: 2 * time.Hour,
				Repos: []Repo{{Name: "kabiforge-kernel", URL: "/srv/kabiforge/kernel/4.18.0-80.1.2.el8_0"},
					{Name: "kabiforge-stable", URL: "https://repo.example.org/el8/x86_64/"}},
				Macros: map[string]string{"kmod_kernel_version": "4.18.0-80.1.2.el8_0", "kmod_rpm_release": "2"}}},
		{name: "kernel-el9-simple",
			mock: Mock{Template: "centos-stream+epel-9-x86_64", Isolation: "simple", Dist: ".el9", Command: "/usr/bin/mock", ConfigDir: "/etc/mock"},
			req:  Request{SRPM: "/work/in/kernel-5.14.0-70.13.1.el9_0.src.rpm", Arch: "aarch64", ResultDir: "/work/out/kernel"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.mock.Config(tc.req)
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".cfg", cfg)
			argv := tc.mock.Argv("/tmp/kabiforge-mock-1/kabiforge.cfg", tc.req)
			golden(t, tc.name+".argv", []byte(strings.Join(argv, "\n")+"\n"))
		})
	}
}

func TestMockConfigRejectsBadInput(t *testing.T) {
	ok := Request{SRPM: "/a/x-1-1.src.rpm", Arch: "x86_64", ResultDir: "/out"}
	for _, tc := range []struct {
		name string
		mock Mock
		req  Request
		want string
	}{
		{"no template", Mock{}, ok, "mock template"},
		{"path template", Mock{Template: "../etc/passwd"}, ok, "mock template"},
		{"deep template", Mock{Template: "eol/../../etc/passwd"}, ok, "mock template"},
		{"isolation", Mock{Template: "t", Isolation: "docker"}, ok, "isolation"},
		{"relative bind mount", Mock{Template: "t", BindMounts: map[string]string{"bin": "/usr/libexec/kabiforge"}}, ok, "bind mount bin"},
		{"no arch", Mock{Template: "t"}, Request{SRPM: ok.SRPM, ResultDir: "/out"}, "arch"},
		{"quote in macro", Mock{Template: "t", Macros: map[string]string{"x": "a'b"}}, ok, "macro x"},
		{"repo url", Mock{Template: "t"}, Request{SRPM: ok.SRPM, Arch: "x86_64", ResultDir: "/out",
			Repos: []Repo{{Name: "r", URL: "file:///x\"\"\"\nexec"}}}, "bad URL"},
		{"repo name", Mock{Template: "t"}, Request{SRPM: ok.SRPM, Arch: "x86_64", ResultDir: "/out",
			Repos: []Repo{{Name: "r]\n[x", URL: "/x"}}}, "bad repository"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := tc.mock.Config(tc.req); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// mockResult copies a testdata/mock case into a result dir and adds the
// given files (packages) to it.
func mockResult(t *testing.T, name string, files ...string) string {
	t.Helper()
	dir := t.TempDir()
	logs, _ := filepath.Glob(filepath.Join("testdata", "mock", name, "*.log"))
	copyInto(t, dir, logs...)
	copyInto(t, dir, files...)
	return dir
}

// collectPackages holds builtPackages' packages for the whole test binary.
var collectPackages struct {
	sync.Mutex
	srpm, rpm string
}

// builtPackages builds one small package with rpmbuild, once per test
// binary: its source package and its binary package, read-only.
func builtPackages(t *testing.T) (srpm, rpm string) {
	t.Helper()
	collectPackages.Lock()
	defer collectPackages.Unlock()
	if collectPackages.srpm == "" {
		spec := testutil.SimpleSpec("kabiforge-collect", "1.0", "1")
		dir := filepath.Join(kernelRepos.dir, "collect")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		copyInto(t, dir, testutil.RPMBuildSRPM(t, spec), testutil.RPMBuild(t, spec)[0])
		srpm, _ := filepath.Glob(filepath.Join(dir, "*.src.rpm"))
		rpm, _ := filepath.Glob(filepath.Join(dir, "*.noarch.rpm"))
		collectPackages.srpm, collectPackages.rpm = srpm[0], rpm[0]
	}
	return collectPackages.srpm, collectPackages.rpm
}

func TestCollectMockResults(t *testing.T) {
	srpm, bin := builtPackages(t)
	dir := mockResult(t, "success", srpm, bin)
	if err := mockFailure("x.src.rpm", 0, dir, nil); err != nil {
		t.Fatal(err)
	}
	res, err := collectMock("x.src.rpm", dir)
	if err != nil {
		t.Fatal(err)
	}
	var logs, want []string
	for _, l := range res.Logs {
		logs = append(logs, filepath.Base(l))
	}
	recorded, _ := filepath.Glob(filepath.Join("testdata", "mock", "success", "*.log"))
	for _, l := range recorded {
		want = append(want, filepath.Base(l))
	}
	if filepath.Base(res.SRPM) != filepath.Base(srpm) || len(res.RPMs) != 1 || filepath.Base(res.RPMs[0]) != filepath.Base(bin) ||
		!slices.Contains(logs, "build.log") || !slices.Equal(logs, want) {
		t.Errorf("result = %+v", res)
	}
	if _, err := collectMock("x.src.rpm", mockResult(t, "success")); !Retryable(err) {
		t.Errorf("success without packages: err = %v, want an infrastructure error", err)
	}
}

// A file named *.rpm that is no RPM is not a result: collection reads each.
func TestCollectMockReadsEachPackage(t *testing.T) {
	srpm, bin := builtPackages(t)
	for name, data := range map[string][]byte{"kmod-x-1-1.el9.x86_64.rpm": []byte("rpm"), "kmod-x-1-1.el9.src.rpm": nil} {
		dir := mockResult(t, "success", srpm, bin)
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := collectMock("x.src.rpm", dir)
		if !Retryable(err) || !strings.Contains(err.Error(), name+" is not an RPM") {
			t.Errorf("%s: err = %v, want an infrastructure error naming it", name, err)
		}
	}
	// A binary package named .src.rpm is still a binary package: no source package.
	dir := mockResult(t, "success")
	copyInto(t, dir, bin)
	if err := os.Rename(filepath.Join(dir, filepath.Base(bin)), filepath.Join(dir, "renamed.src.rpm")); err != nil {
		t.Fatal(err)
	}
	if _, err := collectMock("x.src.rpm", dir); err == nil || !strings.Contains(err.Error(), "no source package") {
		t.Errorf("a binary package named .src.rpm: err = %v", err)
	}
}

// recordedStatus is the exit status real mock ended with in a testdata/mock
// case, from the line the builder wrote to its mock.log.
func recordedStatus(t *testing.T, name string) int {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "mock", name, "mock.log"))
	if err != nil {
		t.Fatalf("%s: %v (go test -tags mock -update records it from real mock)", name, err)
	}
	i := strings.LastIndex(string(data), mockExitLine)
	if i < 0 {
		t.Fatalf("%s/mock.log has no %q line", name, mockExitLine)
	}
	var status int
	if _, err := fmt.Sscanf(string(data[i+len(mockExitLine):]), "%d", &status); err != nil {
		t.Fatalf("%s/mock.log: %v", name, err)
	}
	return status
}

func TestMockExitCodesMapToFailureTypes(t *testing.T) {
	const real = -1 // the status real mock exited with, from the case's mock.log
	for _, tc := range []struct {
		dir     string
		status  int
		want    string // package, dependency or infra
		missing []string
		tail    string
	}{
		{"build-failure", real, "package", nil, "kabiforge-fails-marker"},
		{"build-failure", 10, "package", nil, "Bad exit status"},
		{"build-failure", 40, "package", nil, ""},
		{"build-failure", 11, "package", nil, ""},
		{"missing-dep", real, "dependency", []string{"kabiforge-no-such-devel >= 2.0", "kernel-devel = 4.18.0-80.el8"}, "No matching package"},
		{"missing-dep", 31, "dependency", []string{"kabiforge-no-such-devel >= 2.0", "kernel-devel = 4.18.0-80.el8"}, ""},
		{"dnf5-missing", 30, "dependency", []string{"kernel-devel = 5.14.0-70.13.1.el9_0"}, ""},
		{"dnf-network", real, "infra", nil, "Failed to download metadata"},
		{"dnf-network", 20, "infra", nil, ""},
		{"success", 60, "infra", nil, ""},
		{"success", 1, "infra", nil, ""},
		{"success", 143, "infra", nil, ""},
	} {
		status := tc.status
		if status == real {
			status = recordedStatus(t, tc.dir)
		}
		dir := mockResult(t, tc.dir)
		mockTail := orTail(lastLines(filepath.Join(dir, "mock.log")), []string{"mock's own output"})
		err := mockFailure("kmod.src.rpm", status, dir, mockTail)
		var pe *PackageError
		var de *DependencyError
		var ie *InfraError
		var got string
		var tail []string
		switch {
		case errors.As(err, &pe):
			got, tail = "package", pe.Tail
		case errors.As(err, &de):
			got, tail = "dependency", de.Tail
			if !slices.Equal(de.Missing, tc.missing) {
				t.Errorf("%s/%d: missing %q, want %q", tc.dir, status, de.Missing, tc.missing)
			}
		case errors.As(err, &ie):
			got, tail = "infra", ie.Tail
		}
		if got != tc.want || Retryable(err) != (tc.want == "infra") {
			t.Errorf("%s/%d: err = %v (%T), want %s", tc.dir, status, err, err, tc.want)
		}
		if !strings.Contains(strings.Join(tail, "\n"), tc.tail) || len(tail) == 0 {
			t.Errorf("%s/%d: tail lacks %q:\n%s", tc.dir, status, tc.tail, strings.Join(tail, "\n"))
		}
	}
}

func TestFollowLogsStreamsAppendedLines(t *testing.T) {
	dir := t.TempDir()
	var got lines
	stop := followLogs(dir, got.add, "build.log", "root.log")
	f, err := os.Create(filepath.Join(dir, "build.log"))
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("Executing(%build)\n")
	deadline := time.Now().Add(5 * time.Second)
	for !got.has("Executing(%build)") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	f.WriteString("Wrote: x.rpm\nno newline yet")
	f.Close()
	stop()
	if !got.has("Executing(%build)") || !got.has("Wrote: x.rpm") || !got.has("no newline yet") {
		t.Errorf("lines = %q", got.l)
	}
}

// A request's Template (the kernel stream's) overrides the Mock's default.
func TestMockConfigRequestTemplateOverrides(t *testing.T) {
	m := &Mock{Template: "eol/centos-stream-8-x86_64"}
	req := Request{SRPM: "/in/k.src.rpm", Arch: "x86_64", ResultDir: "/out"}
	for template, want := range map[string]string{
		"":                            "include('/etc/mock/eol/centos-stream-8-x86_64.cfg')",
		"centos-stream+epel-9-x86_64": "include('/etc/mock/centos-stream+epel-9-x86_64.cfg')",
	} {
		req.Template = template
		cfg, err := m.Config(req)
		if err != nil || !strings.Contains(string(cfg), want) {
			t.Errorf("template %q: config lacks %s (%v):\n%s", template, want, err, cfg)
		}
	}
	req.Template = "../../etc/passwd"
	if _, err := m.Config(req); err == nil || !strings.Contains(err.Error(), "mock template") {
		t.Errorf("a hostile request template was accepted: %v", err)
	}
}
