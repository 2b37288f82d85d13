package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
)

// kabiforge dev --demo where the real kernel family cannot be fetched (its
// cache is unusable): one line says why, then the synthetic demo kernel and
// kmods, then the next kernel, are rebuilt, published and served; dnf
// installs the next kernel and every kmod over HTTP with gpgcheck and
// repo_gpgcheck, as the banner says.
func TestDevDemo(t *testing.T) {
	notDir := filepath.Join(t.TempDir(), "cache-is-a-file")
	if err := os.WriteFile(notDir, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	devtest.Binary(t) // built (or found) in the real cache first; the demo's cache is the broken one
	t.Setenv("XDG_CACHE_HOME", notDir)
	d := startDevDemo(t)
	next := "4.18.0-80.1.2.el8_0"
	st := d.waitPublished(t, next, 4*time.Minute)
	if !strings.Contains(st, "kmod fragiledrv: rebuilt") || !strings.Contains(st, "kmod stabledrv: compatible") {
		t.Errorf("status of the next kernel:\n%s", st)
	}
	if n := strings.Count(d.out.String(), "demo: real kernel family unavailable"); n != 1 || !strings.Contains(d.out.String(), notDir) {
		t.Errorf("want one line saying why the real family is not used (naming %s):\n%s", notDir, d.out.String())
	}
	d.installAsBanner(t, next)
	// status with no NVR lists both rebuilds from their search attributes.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		list, err := runCLI(context.Background(), "status", "--config", d.cfg)
		if err == nil && strings.Contains(list, next+" ") && strings.Contains(list, "4.18.0-80.el8 ") &&
			strings.Contains(list, string(pipeline.StagePublished)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("status lists no rebuilds: %v\n%s", err, list)
		}
	}
	d.stopDev(t)
	devKeepsHistory(t, d.cfg, "http://"+d.uiAddr, "4.18.0-80.el8", next)
}

// devDemo is `kabiforge dev --demo` running in process on free ports.
type devDemo struct {
	cfg, repoAddr, uiAddr string
	out                   *lockedBuffer
	done                  chan error
	stop                  func()
}

func startDevDemo(t *testing.T, args ...string) *devDemo {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	testutil.RequireTool(t, "dnf")
	bin := devtest.Binary(t)
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	d := &devDemo{cfg: filepath.Join(dir, "kabiforge.yaml"), out: &lockedBuffer{}, done: make(chan error, 1),
		repoAddr: fmt.Sprintf("127.0.0.1:%d", devtest.FreePort(t)), uiAddr: fmt.Sprintf("127.0.0.1:%d", devtest.FreePort(t))}
	frontend := fmt.Sprintf("127.0.0.1:%d", devtest.FreePort(t))
	yaml := fmt.Sprintf("data_dir: %s\ntemporal: {address: %q}\nhttp: {repo: %q, ui: %q}\n",
		filepath.Join(dir, "data"), frontend, d.repoAddr, d.uiAddr)
	if err := os.WriteFile(d.cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	d.stop = stop
	t.Cleanup(stop)
	go func() {
		d.done <- runCLITo(ctx, d.out, append([]string{"dev", "--demo", "--config", d.cfg}, args...)...)
	}()
	return d
}

// waitPublished waits until kernel nvr is published and returns its status.
func (d *devDemo) waitPublished(t *testing.T, nvr string, limit time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(limit); ; time.Sleep(time.Second) {
		st, err := runCLI(context.Background(), "status", nvr, "--config", d.cfg)
		if err == nil && strings.Contains(st, ": "+string(pipeline.StagePublished)+"\n") {
			return st
		}
		select {
		case err := <-d.done:
			t.Fatalf("dev ended: %v\n%s", err, d.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not published after %v: %v\n%s\n%s", nvr, limit, err, st, d.out.String())
		}
	}
}

// installAsBanner installs what the banner's install line names, from the
// .repo file it downloads, and checks that kernel-core nvr is installed.
func (d *devDemo) installAsBanner(t *testing.T, nvr string) []string {
	t.Helper()
	repoURL, pkgs := parseInstallLine(t, d.out.String())
	repoFile := httpGet(t, repoURL)
	if !strings.Contains(repoFile, "gpgcheck=1") || !strings.Contains(repoFile, "repo_gpgcheck=1") {
		t.Fatalf("published .repo file does not check signatures:\n%s", repoFile)
	}
	root := testutil.NewDNFRoot(t)
	root.AddRepoFile(repoFile)
	if o, err := root.Install(pkgs...); err != nil {
		t.Errorf("dnf install as the banner says (%v): %v\n%s", pkgs, err, o)
	}
	installed := root.Installed(t)
	if got := strings.Join(installed, " "); !strings.Contains(got, "kernel-core-"+nvr) {
		t.Errorf("installed %s, want kernel-core %s", got, nvr)
	}
	return installed
}

// stopDev stops `kabiforge dev` and checks its banner.
func (d *devDemo) stopDev(t *testing.T) {
	t.Helper()
	d.stop()
	if err := <-d.done; err != nil {
		t.Errorf("dev: %v", err)
	}
	for _, want := range []string{"Temporal UI:  http://127.0.0.1:", "repository:   http://" + d.repoAddr + "/el8/", "el8.repo"} {
		if !strings.Contains(d.out.String(), want) {
			t.Errorf("banner lacks %q:\n%s", want, d.out.String())
		}
	}
}

// devKeepsHistory restarts `kabiforge dev` (no demo) on the same
// configuration and data directory and checks that the rebuilds of the
// kernels, done before the restart, are still there: status shows them
// published and the UI's API lists their workflows.
func devKeepsHistory(t *testing.T, cfg, ui string, kernels ...string) {
	t.Helper()
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out lockedBuffer
	go func() { done <- runCLITo(ctx, &out, "dev", "--config", cfg) }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("dev after restart: %v\n%s", err, out.String())
		}
	}()
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(out.String(), "Temporal UI:"); time.Sleep(100 * time.Millisecond) {
		select {
		case err := <-done:
			done <- err
			t.Fatalf("dev ended on restart: %v\n%s", err, out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("dev not ready 30 s after restart:\n%s", out.String())
		}
	}
	for _, k := range kernels {
		st, err := runCLI(context.Background(), "status", k, "--config", cfg)
		if err != nil || !strings.Contains(st, ": "+string(pipeline.StagePublished)+"\n") {
			t.Errorf("after restart, status %s: %v\n%s", k, err, st)
		}
		id := "kernel/" + k // pipeline.RebuildID of the kernel package
		if err := devtest.UIListsWorkflow(ui, fmt.Sprintf("KernelNVR = %q", k), id); err != nil {
			t.Errorf("after restart: %v", err)
		}
	}
}

// parseInstallLine finds the banner's "install with:" line, which reads
// "sudo curl -o /etc/yum.repos.d/N.repo URL && sudo dnf install PKG...", and
// returns the .repo URL and the packages.
func parseInstallLine(t *testing.T, banner string) (repoURL string, pkgs []string) {
	t.Helper()
	for _, line := range strings.Split(banner, "\n") {
		rest, ok := strings.CutPrefix(line, "install with: ")
		if !ok {
			continue
		}
		curl, dnf, ok := strings.Cut(rest, " && ")
		f := strings.Fields(curl)
		d := strings.Fields(dnf)
		if !ok || len(f) != 5 || f[1] != "curl" || len(d) < 4 || d[1] != "dnf" || d[2] != "install" {
			t.Fatalf("install line not as documented: %q", line)
		}
		return f[4], d[3:]
	}
	t.Fatalf("banner has no install line:\n%s", banner)
	return "", nil
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return string(b)
}
