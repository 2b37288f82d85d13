package workflows_test

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/modsign/modsigntest"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/source"
	"github.com/kabiforge/kabiforge/repo/store"
	"github.com/kabiforge/kabiforge/workflows"
)

// envWorker makes the test binary run as a kabiforge worker process (for
// tests that kill workers) instead of running tests.
const envWorker = "KABIFORGE_TEST_WORKER"

// workerSpec is what a worker process runs with.
type workerSpec struct {
	Frontend, Namespace string
	Queue, BuildQueue   string
	Upstream, Artifacts string
	Repo, KeyFile       string
	// BaseURL is the repository's URL in its .repo file; runs compared
	// with repotest.Same publish under one URL (default file://Repo/).
	BaseURL              string
	WorkDir              string
	PublishHeartbeat     time.Duration
	BuildDelay, CASDelay time.Duration
}

func TestMain(m *testing.M) {
	modsigntest.Main()
	if spec := os.Getenv(envWorker); spec != "" {
		if err := runWorker(spec); err != nil {
			fmt.Fprintln(os.Stderr, "worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runWorker runs a control and a build worker until SIGTERM.
func runWorker(specJSON string) error {
	var s workerSpec
	if err := json.Unmarshal([]byte(specJSON), &s); err != nil {
		return err
	}
	c, err := client.Dial(client.Options{HostPort: s.Frontend, Namespace: s.Namespace,
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		return err
	}
	defer c.Close()
	open := func(dir string) store.Store {
		st, err := store.OpenDir(dir)
		if err != nil {
			panic(err)
		}
		return st
	}
	key, err := sign.LoadKey(s.KeyFile, []byte(os.Getenv("KABIFORGE_SIGNING_PASSPHRASE")))
	if err != nil {
		return err
	}
	acts := &activities.Activities{Artifacts: open(s.Artifacts),
		Sources:      map[string]activities.Source{"upstream": {Source: source.FromStore(open(s.Upstream)), Fetch: source.FetchOptions{Unsigned: true}}},
		Repositories: map[string]activities.Repository{repoName: {Store: slowStore{open(s.Repo), s.CASDelay}, BaseURL: cmp.Or(s.BaseURL, "file://"+s.Repo+"/")}},
		Builder:      slowBuilder{&build.Rpmbuild{}, s.BuildDelay}, BuilderName: "rpmbuild", Signer: sign.NewSigner(key), Client: c,
		ControlQueue: s.Queue, WorkDir: s.WorkDir, PublishOptions: pipeline.RepoPublishState{HeartbeatTimeout: s.PublishHeartbeat}}
	for _, q := range []string{s.Queue, s.BuildQueue} {
		w := worker.New(c, q, worker.Options{})
		if q == s.Queue {
			workflows.Register(w)
		}
		activities.Register(w, acts)
		if err := w.Start(); err != nil {
			return err
		}
		defer w.Stop()
	}
	fmt.Println("worker ready")
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	<-sig
	return nil
}

// startWorker starts a worker process; kill it with SIGKILL to crash it.
func startWorker(t *testing.T, s workerSpec) *exec.Cmd {
	t.Helper()
	spec, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorker+"="+string(spec), "KABIFORGE_SIGNING_PASSPHRASE="+passphrase)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		_ = cmd.Wait()
	})
	return cmd
}

// crash kills a worker process and everything it started, at once.
func crash(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	if err := syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
}

// slowBuilder delays every build, so a test can crash a worker mid-build.
type slowBuilder struct {
	build.Builder
	delay time.Duration
}

func (b slowBuilder) Build(ctx context.Context, req build.Request) (build.Result, error) {
	select {
	case <-time.After(b.delay):
	case <-ctx.Done():
		return build.Result{}, ctx.Err()
	}
	return b.Builder.Build(ctx, req)
}

// slowStore delays compare-and-swaps, so a test can crash a worker
// mid-publish (between uploading packages and switching repomd.xml).
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s slowStore) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (store.Info, error) {
	select {
	case <-time.After(s.delay):
	case <-ctx.Done():
		return store.Info{}, ctx.Err()
	}
	return s.Store.CompareAndSwap(ctx, key, version, r)
}
