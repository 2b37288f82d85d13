package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/drift"
	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
)

const driftConfig = `data_dir: %[1]s
temporal: {address: "%[2]s", namespace: default, task_queue: drift}
sources:
  - {name: upstream, url: %[1]s/upstream, unsigned: true, poll_interval: 1h}
  - {name: stream8, url: %[1]s/stream8, unsigned: true, poll_interval: 1h}
streams:
  - name: el8
    source: upstream
    version: 6.1.0
    release: "47.el8"
    references: [{source: stream8, version: 6.1.0, release: "*.el8"}]
arches: [{name: x86_64, queue: build-x86_64-drift}]
builder: {kind: rpmbuild}
kmods: [{name: kfcount, source: upstream}, {name: kfwatch, source: upstream}, {name: kfmisc, source: upstream}]
signing: {key: %[1]s/keys/signing.asc, generate: true}
stores:
  artifacts: dir://%[1]s/artifacts
  repositories: [{name: el8, url: "dir://%[1]s/repos/el8", baseurl: "file://%[1]s/repos/el8/"}]
`

// TestDriftOfTheRealFamily: a repository holds the real 6.1.0-47 (N1) and
// the three real kmods compiled against it; the reference source (a
// folder of kernel-core RPMs, as a compose is) gets 6.1.0-57 (N2), then
// 6.1.0-47.1 (N1's ABI, a second release). The worker and the commands
// are kabiforge's own against the embedded Temporal server. Each drift
// report must break exactly the kmods whose kernel(sym) Requires (rpm -qp)
// the reference kernel's Module.symvers no longer provides alike, symbol
// for symbol; kabiforge drift --json must print drift/<nvr>.json; nothing
// is rebuilt or published for the reference kernels; headless Chromium
// reads N1's row and the drift rows on the repository's page.
func TestDriftOfTheRealFamily(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	browser := testutil.Chromium(t)
	n1 := demo.RealKernel{Tree: kftest.Need(t, "6.1.0-47"), Release: "47"}
	n2 := demo.RealKernel{Tree: kftest.Need(t, "6.1.0-57"), Release: "57"}
	same := demo.RealKernel{Tree: n1.Tree, Release: "47.1"}
	n1RPMs, _ := kftest.KernelRPMs(t, n1)
	kmods := map[string]string{}
	for _, name := range demo.RealKmodNames() {
		kmods[name] = buildRealKmod(t, name, n1.NVR(".el8"), filepath.Dir(n1RPMs[0]))
	}
	srv := devtest.Start(t, devtest.Options{Headless: true})
	dir := t.TempDir()
	for _, d := range []string{"upstream", "stream8"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cfgFile := filepath.Join(dir, "kabiforge.yaml")
	if err := os.WriteFile(cfgFile, fmt.Appendf(nil, driftConfig, dir, srv.Frontend), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgFile, os.LookupEnv)
	if err != nil {
		t.Fatal(err)
	}
	repoDir := filepath.Join(dir, "repos", "el8")
	publishN1(t, cfg, kernelCore(t, n1RPMs), kmods)
	before := repoPackages(t, repoDir)

	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	workerLog := &lockedBuffer{}
	go func() { done <- runCLITo(ctx, workerLog, "worker", "--config", cfgFile, "--log-level", "info") }()
	defer func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("worker: %v", err)
		}
		if t.Failed() {
			t.Logf("worker log:\n%s", workerLog.String())
		}
	}()
	c, err := client.Dial(client.Options{HostPort: srv.Frontend, Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	for _, ref := range []struct {
		kernel demo.RealKernel
		broken bool
	}{{n2, true}, {same, false}} {
		vr := ref.kernel.NVR(".el8")
		rpms, _ := kftest.KernelRPMs(t, ref.kernel)
		copyFile(t, kernelCore(t, rpms), filepath.Join(dir, "stream8", "kernel-core-"+vr+".x86_64.rpm"))
		out, err := runCLI(context.Background(), "watch", "--now", "--config", cfgFile)
		if err != nil || !strings.Contains(out, "watch/stream8") {
			t.Fatalf("watch --now: %v\n%s", err, out)
		}
		t.Logf("watch --now: %s", out)
		report := waitDrift(t, cfgFile, vr)
		stored, err := os.ReadFile(filepath.Join(repoDir, "drift", vr+".json"))
		if err != nil {
			t.Fatal(err)
		}
		if printed := report.printed; printed != string(stored) {
			t.Errorf("kabiforge drift %s --json differs from drift/%s.json:\n%s\nvs\n%s", vr, vr, printed, stored)
		}
		want := expectedBreaks(t, ref.kernel.Tree.Symvers(), kmods)
		got := map[string][]string{}
		for _, a := range report.Arches {
			for _, k := range a.Kmods {
				if k.State == drift.Unknown {
					t.Errorf("%s on %s: unknown (%s)", k.Name, vr, k.Problem)
				}
				names := []string{}
				for _, b := range k.Breaks {
					names = append(names, b.Name)
				}
				slices.Sort(names)
				got[k.Name] = names
			}
		}
		for _, name := range demo.RealKmodNames() {
			if !slices.Equal(got[name], want[name]) {
				t.Errorf("%s on %s breaks by %v, Module.symvers says %v", name, vr, got[name], want[name])
			}
			if ref.broken != (len(want[name]) > 0) {
				t.Errorf("%s on %s: %d changed symbols, want broken %v", name, vr, len(want[name]), ref.broken)
			}
		}
		t.Logf("drift %s: %d broken: %v", vr, report.Broken, got)
		if ids := listed(t, c, fmt.Sprintf(`KabiStage = "drift" AND KernelNVR = %q AND KmodsFailed = %d`, vr, report.Broken)); !slices.Equal(ids, []string{"drift/el8/" + vr}) {
			t.Errorf("search attributes find %v, want drift/el8/%s", ids, vr)
		}
		if ids := listed(t, c, fmt.Sprintf(`WorkflowId = "kernel/%s"`, vr)); len(ids) != 0 {
			t.Errorf("a rebuild of the reference kernel ran: %v", ids)
		}
		recordHistory(t, c, "drift/el8/"+vr)
		if after := repoPackages(t, repoDir); !slices.Equal(after, before) {
			t.Errorf("the repository's packages changed with the drift of %s:\n%v\nwant\n%v", vr, after, before)
		}
	}
	out, err := runCLI(context.Background(), "drift", n2.NVR(".el8"), "--config", cfgFile)
	if err != nil || !strings.Contains(out, "reference kernel "+n2.NVR(".el8")+" (stream el8): done; 3 broken") {
		t.Errorf("kabiforge drift: %v\n%s", err, out)
	}
	st, err := store.OpenDir(repoDir)
	if err != nil {
		t.Fatal(err)
	}
	page := httptest.NewServer(serve.Handler(st, zerolog.Nop()))
	defer page.Close()
	cells := testutil.PageCells(t, browser.DOM(t, page.URL+"/"))
	for _, name := range demo.RealKmodNames() {
		for kernel, want := range map[string]string{n1.NVR(".el8"): "rebuilt", n2.NVR(".el8"): "broken", same.NVR(".el8"): "compatible"} {
			if got := cells[kernel+"/"+name]; !strings.HasPrefix(got, want) {
				t.Errorf("page: %s × %s reads %q, want %s…", kernel, name, got, want)
			}
		}
	}
	shot := filepath.Join(testutil.ArtifactDir(t), "drift-page.png")
	browser.Screenshot(t, page.URL+"/", shot)
	t.Logf("screenshot: %s", shot)
}

// driftResult is a drift report as kabiforge drift --json printed it.
type driftResult struct {
	drift.Report
	printed string
}

// waitDrift runs kabiforge drift NVR --json until the report is published.
func waitDrift(t *testing.T, cfgFile, vr string) driftResult {
	t.Helper()
	for deadline := time.Now().Add(3 * time.Minute); ; time.Sleep(500 * time.Millisecond) {
		status, err := runCLI(context.Background(), "drift", vr, "--config", cfgFile)
		if err == nil && strings.Contains(status, ": done;") {
			out, err := runCLI(context.Background(), "drift", vr, "--json", "--config", cfgFile)
			if err != nil {
				t.Fatalf("drift --json: %v", err)
			}
			r := driftResult{printed: out}
			if err := json.Unmarshal([]byte(out), &r.Report); err != nil {
				t.Fatalf("drift --json: %v\n%s", err, out)
			}
			return r
		}
		if time.Now().After(deadline) || strings.Contains(status, "failed") {
			t.Fatalf("drift of %s not done: %v\n%s", vr, err, status)
		}
	}
}

// expectedBreaks joins each kmod package's kernel(sym) = CRC Requires
// (rpm -qp --requires) with a Module.symvers: the symbols missing or with
// another CRC, sorted.
func expectedBreaks(t *testing.T, symvers string, kmods map[string]string) map[string][]string {
	crc := map[string]string{}
	for _, f := range fieldsOf(t, symvers) {
		if len(f) >= 2 {
			crc[f[1]] = f[0]
		}
	}
	out := map[string][]string{}
	for name, rpm := range kmods {
		out[name] = []string{}
		for _, d := range rpmDeps(t, "--requires", rpm) {
			sym, want, ok := strings.Cut(strings.TrimPrefix(d, "kernel("), ") = ")
			if !strings.HasPrefix(d, "kernel(") || !ok {
				continue
			}
			if have, ok := crc[sym]; !ok || !strings.EqualFold(strings.TrimLeft(strings.TrimPrefix(have, "0x"), "0"), strings.TrimLeft(strings.TrimPrefix(want, "0x"), "0")) {
				out[name] = append(out[name], sym)
			}
		}
		slices.Sort(out[name])
	}
	return out
}

// publishN1 puts N1's kernel-core and the three kmods into the repository
// as a KernelRebuild does: signed, with provenance and the rebuild's outcome.
func publishN1(t *testing.T, cfg *config.Config, core string, kmods map[string]string) {
	ctx := context.Background()
	a, err := activities.New(ctx, cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := pipeline.PublishRequest{ID: "n1", Repository: "el8",
		Kernel: &pipeline.KernelOutcome{KernelNVR: "6.1.0-47.el8", Kmods: map[string]pipeline.KmodOutcome{}}}
	var built []pipeline.Artifact
	kinds := []pipeline.Provenance{{Kind: pipeline.KindKernel}}
	paths := []string{core}
	for _, name := range demo.RealKmodNames() {
		paths = append(paths, kmods[name])
		kinds = append(kinds, pipeline.Provenance{Kind: pipeline.KindKmod, Kmod: name})
		req.Kernel.Kmods[name] = pipeline.KmodOutcome{State: pipeline.StateRebuilt, Reason: "no published build"}
	}
	for _, p := range paths {
		art, err := activities.PutRPM(ctx, a.Artifacts, p)
		if err != nil {
			t.Fatal(err)
		}
		built = append(built, art)
	}
	signed, err := a.Sign(ctx, pipeline.SignInput{RPMs: built})
	if err != nil {
		t.Fatal(err)
	}
	req.Add = signed.RPMs
	for i, p := range kinds {
		p.RPM, p.SourceRPM, p.SigningKeyID, p.KernelNVR, p.Time = signed.RPMs[i], built[i], signed.KeyID, "6.1.0-47.el8", time.Now()
		req.Provenance = append(req.Provenance, p)
	}
	if res, err := a.Publish(ctx, req); err != nil || !res.Committed {
		t.Fatalf("publish N1: %+v %v", res, err)
	}
}

func kernelCore(t *testing.T, rpms []string) string {
	for _, p := range rpms {
		if strings.HasPrefix(filepath.Base(p), "kernel-core-") {
			return p
		}
	}
	t.Fatalf("no kernel-core in %v", rpms)
	return ""
}

// repoPackages lists the package files of a repository.
func repoPackages(t *testing.T, repo string) []string {
	files, err := filepath.Glob(filepath.Join(repo, "Packages", "*", "*.rpm"))
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range files {
		files[i] = filepath.Base(f)
	}
	slices.Sort(files)
	return files
}

// listed returns the workflow IDs a visibility query finds, waiting a
// little for visibility to catch up.
func listed(t *testing.T, c client.Client, query string) []string {
	var ids []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(300 * time.Millisecond) {
		ids = nil
		resp, err := c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			t.Fatalf("list %q: %v", query, err)
		}
		for _, e := range resp.Executions {
			ids = append(ids, e.Execution.WorkflowId)
		}
		if len(ids) > 0 || time.Now().After(deadline) {
			return ids
		}
	}
}

// recordHistory writes a workflow's history into the replay tests'
// testdata (workflows/testdata/history, "/" spelled "~") when
// KABIFORGE_RECORD_HISTORY=1.
func recordHistory(t *testing.T, c client.Client, id string) {
	if os.Getenv("KABIFORGE_RECORD_HISTORY") != "1" {
		return
	}
	it := c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	var h historypb.History
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	data, err := protojson.MarshalOptions{Indent: " "}.Marshal(&h)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join("..", "..", "workflows", "testdata", "history", strings.ReplaceAll(id, "/", "~")+".json")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
