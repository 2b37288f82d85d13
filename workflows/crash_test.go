package workflows_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/workflows"
)

// waitActivityStarted waits until workflow id has a started activity of
// the given type.
func waitActivityStarted(t *testing.T, c client.Client, id, activityType string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		d, err := c.DescribeWorkflowExecution(context.Background(), id, "")
		if err != nil {
			continue
		}
		for _, a := range d.PendingActivities {
			if a.ActivityType.GetName() == activityType && a.State == enumspb.PENDING_ACTIVITY_STATE_STARTED {
				return
			}
		}
	}
	t.Fatalf("%s never started %s", id, activityType)
}

// retriedAttempts returns the highest activity attempt in a history.
func retriedAttempts(t *testing.T, c client.Client, id string) int32 {
	t.Helper()
	var most int32
	it := c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			t.Fatal(err)
		}
		if a := e.GetActivityTaskStartedEventAttributes(); a != nil && a.Attempt > most {
			most = a.Attempt
		}
	}
	return most
}

// The worker is killed (SIGKILL) during the kernel build and again during
// the publish; restarted each time, the rebuild completes with exactly one
// publish and the packages an undisturbed run publishes.
func TestWorkerCrashDuringBuildAndPublish(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	srv := devtest.Start(t, devtest.Options{Headless: true})
	c, err := client.Dial(client.Options{HostPort: srv.Frontend, Namespace: srv.Namespace,
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := t.TempDir()
	spec := workerSpec{Frontend: srv.Frontend, Namespace: srv.Namespace, Queue: "crash", BuildQueue: "build-x86_64-crash",
		Upstream: filepath.Join(root, "upstream"), Artifacts: filepath.Join(root, "artifacts"), Repo: filepath.Join(root, "repo"),
		KeyFile: filepath.Join(root, "key.asc"), WorkDir: t.TempDir(), PublishHeartbeat: 3 * time.Second,
		BuildDelay: 2 * time.Second, CASDelay: 2 * time.Second}
	key, err := sign.Generate("crash", "crash@example.org", sign.RSA4096)
	if err != nil {
		t.Fatal(err)
	}
	var armor bytes.Buffer
	if err := key.WritePrivate(&armor, []byte(passphrase)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(spec.KeyFile, armor.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	kernel := demo.BaseKernel()
	if _, err := demo.KernelSRPM(spec.Upstream, kernel); err != nil {
		t.Fatal(err)
	}
	plan := workflows.Plan{Source: "upstream", Stream: "el8", Arches: []workflows.Arch{{Name: "x86_64", Queue: spec.BuildQueue}},
		Repository: repoName, ControlQueue: spec.Queue, Gate: workflows.Gate{On: []string{workflows.GateKmodFailed}},
		Timeouts: workflows.Timeouts{Build: 10 * time.Minute, Heartbeat: 3 * time.Second, Activity: 5 * time.Minute}}
	for _, k := range demo.Kmods(kernelA) {
		plan.Kmods = append(plan.Kmods, activities.KmodSpec{Name: k.Name, Package: "kmod-" + k.Name, Source: "upstream"})
		if _, err := demo.KmodSRPM(spec.Upstream, k); err != nil {
			t.Fatal(err)
		}
	}

	w := startWorker(t, spec)
	pkg := activities.SourcePackage{Name: "kernel", Version: "4.18.0", Release: "80.el8", Arch: "src", Location: "kernel-" + kernelA + ".src.rpm", Size: -1}
	run, err := workflows.StartRebuild(context.Background(), c, plan, pkg)
	if err != nil {
		t.Fatal(err)
	}
	waitActivityStarted(t, c, workflows.BuildID("kernel-"+kernelA, "x86_64"), "Build")
	crash(t, w)
	w = startWorker(t, spec)
	waitActivityStarted(t, c, activities.RepoPublishID(repoName), "Publish")
	time.Sleep(time.Second) // into the publish: packages uploading, repomd not yet switched
	crash(t, w)
	startWorker(t, spec)

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.RebuildResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if res.Stage != workflows.StagePublished || res.Published == nil || !res.Published.Committed {
		t.Fatalf("result %+v", res)
	}
	for _, id := range []string{workflows.BuildID("kernel-"+kernelA, "x86_64"), activities.RepoPublishID(repoName)} {
		if n := retriedAttempts(t, c, id); n < 2 {
			t.Errorf("%s: last activity attempt %d; the crash did not interrupt it", id, n)
		}
	}
	if j := journal(t, spec.Repo); len(j.Generations) != 1 {
		t.Errorf("repository has %d generations, want exactly one publish", len(j.Generations))
	}
	// Same contents as an undisturbed run: the kernel's packages and one
	// build of each kmod, each once.
	var names []string
	filepath.WalkDir(filepath.Join(spec.Repo, "Packages"), func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, d.Name())
		}
		return nil
	})
	slices.Sort(names)
	if len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Errorf("a package is published twice: %v", names)
	}
	for _, want := range []string{"kernel-core-" + kernelA, "kernel-devel-" + kernelA, "kmod-stabledrv-1.0-2", "kmod-fragiledrv-2.3-2", "kmod-tunabledrv-0.9-2"} {
		if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, want) }) {
			t.Errorf("repository lacks %s: %v", want, names)
		}
	}
	if len(names) != res.Published.Packages {
		t.Errorf("%d package files, repository lists %d", len(names), res.Published.Packages)
	}
}
