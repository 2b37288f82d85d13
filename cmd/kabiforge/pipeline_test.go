package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/workflows"
)

// runCLI runs the kabiforge CLI with args under ctx.
func runCLI(ctx context.Context, args ...string) (string, error) {
	var out bytes.Buffer
	err := runCLITo(ctx, &out, args...)
	return out.String(), err
}

// runCLITo runs kabiforge in process with its output going to w.
func runCLITo(ctx context.Context, w io.Writer, args ...string) error {
	a := &app{self: kabiforgeBin}
	root := a.rootCommand()
	root.SetOut(w)
	root.SetErr(w)
	root.SetArgs(append(args, "--log-level", "warn"))
	return root.ExecuteContext(ctx)
}

// lockedBuffer is a buffer one goroutine writes while another reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const pipelineConfig = `data_dir: %[1]s
temporal: {address: "%[2]s", namespace: default, task_queue: cli}
sources:
  - {name: upstream, url: %[1]s/upstream, unsigned: true, poll_interval: 1h}
streams:
  - {name: el8, version: 4.18.0, release: "*.el8*"}
arches:
  - {name: x86_64, queue: build-x86_64-cli}
builder: {kind: rpmbuild}
kmods:
  - {name: stabledrv}
  - {name: fragiledrv}
  - {name: tunabledrv}
signing: {key: %[1]s/keys/signing.asc, generate: true}
stores:
  artifacts: dir://%[1]s/artifacts
  repositories:
    - {name: el8, url: "dir://%[1]s/repos/el8", baseurl: "file://%[1]s/repos/el8/"}
`

// The operator's commands against a real server: a worker from the
// configuration, watch --now, status until the kernel is published.
func TestPipelineCommands(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	srv := devtest.Start(t, devtest.Options{Headless: true})
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "upstream"), 0o755); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.KernelSRPM(filepath.Join(dir, "upstream"), demo.BaseKernel()); err != nil {
		t.Fatal(err)
	}
	for _, k := range demo.Kmods("4.18.0-80.el8") {
		if _, err := demo.KmodSRPM(filepath.Join(dir, "upstream"), k); err != nil {
			t.Fatal(err)
		}
	}
	cfg := filepath.Join(dir, "kabiforge.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, pipelineConfig, dir, srv.Frontend), 0o644); err != nil {
		t.Fatal(err)
	}

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	metrics := fmt.Sprintf("127.0.0.1:%d", devtest.FreePort(t))
	go func() { _, err := runCLI(ctx, "worker", "--config", cfg, "--metrics", metrics); done <- err }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
	}()

	if out, err := runCLI(context.Background(), "watch", "--now", "--config", cfg); err != nil || !strings.Contains(out, "triggered watch/upstream") {
		t.Fatalf("watch --now: %v\n%s", err, out)
	}
	var s workflows.Status
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(300 * time.Millisecond) {
		out, err := runCLI(context.Background(), "status", "4.18.0-80.el8", "--json", "--config", cfg)
		if err == nil {
			if err := json.Unmarshal([]byte(out), &s); err != nil {
				t.Fatalf("status --json: %v\n%s", err, out)
			}
			if s.Stage == pipeline.StagePublished {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("kernel not published: %+v %v", s, err)
		}
	}
	if len(s.Kmods) != 3 || s.RepoURL != "file://"+dir+"/repos/el8/" {
		t.Errorf("status %+v", s)
	}
	if _, err := os.Stat(filepath.Join(dir, "repos", "el8", "repodata", "repomd.xml")); err != nil {
		t.Errorf("nothing published: %v", err)
	}
	out, err := runCLI(context.Background(), "status", "kernel-4.18.0-80.el8", "--config", cfg)
	if err != nil || !strings.Contains(out, "kernel 4.18.0-80.el8: published") || !strings.Contains(out, "kmod fragiledrv: rebuilt") {
		t.Errorf("status: %v\n%s", err, out)
	}
	resp, err := http.Get("http://" + metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{`kabiforge_builds_total{arch="x86_64",outcome="ok"} 4`,
		`kabiforge_publish_duration_seconds_count{outcome="ok",repository="el8"} 1`, `kabiforge_kabi_breaks_total{arch="x86_64"} 0`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	var ee *exitError
	if _, err := runCLI(context.Background(), "reject", "4.18.0-80.el8", "--config", cfg); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("reject without --reason: %v, want exit code 2", err)
	}
	if _, err := runCLI(context.Background(), "rebuild", "4.18.0-80.el8", "--config", cfg); err == nil || !strings.Contains(err.Error(), "already") {
		t.Errorf("rebuilding a published kernel: %v, want refused", err)
	}
	if _, err := runCLI(context.Background(), "rebuild", "5.14.0-70.el9", "--config", cfg); !errors.As(err, &ee) || ee.code != 2 {
		t.Errorf("rebuild of an untracked kernel: %v, want exit code 2", err)
	}
}
