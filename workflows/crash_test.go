package workflows_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/repotest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/publish"
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
// publish and the same repository contents as an undisturbed run of the
// same rebuild (same SRPMs, key and plan) on a fresh server and store. The
// two runs go side by side: repotest.Same says what "the same" means; dnf,
// checking signatures, lists the same packages in both and installs the
// kernel and every kmod from the crashed run's repository.
func TestWorkerCrashDuringBuildAndPublish(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	testutil.RequireTool(t, "dnf")
	in := newRebuildInputs(t)
	root := t.TempDir() // the runs' stores, kept for the comparison
	var calm, crashed rebuildRun
	t.Run("runs", func(t *testing.T) {
		t.Run("undisturbed", func(t *testing.T) {
			t.Parallel()
			calm = in.run(t, root, "calm", false)
		})
		t.Run("crashed", func(t *testing.T) {
			t.Parallel()
			crashed = in.run(t, root, "crash", true)
		})
	})
	if t.Failed() {
		return
	}
	if calm.res.Published.Packages != crashed.res.Published.Packages {
		t.Errorf("published %d packages, undisturbed %d", crashed.res.Published.Packages, calm.res.Published.Packages)
	}
	files, _ := repotest.Files(t, calm.repo)
	for _, want := range []string{"kernel-core-" + kernelA, "kernel-devel-" + kernelA, "kmod-stabledrv-1.0-2", "kmod-fragiledrv-2.3-2", "kmod-tunabledrv-0.9-2"} {
		if !slices.ContainsFunc(files, func(f string) bool { return strings.HasPrefix(path.Base(f), want) }) {
			t.Errorf("undisturbed repository lacks %s:\n%s", want, strings.Join(files, "\n"))
		}
	}
	repotest.Same(t, calm.repo, crashed.repo)
	if w, g := dnfView(t, calm.repo), dnfView(t, crashed.repo); w != g {
		t.Errorf("dnf lists\n%s\nundisturbed\n%s", g, w)
	}
	dnf := testutil.NewDNFRoot(t)
	dnf.AddRepo(dnfRepo(crashed.repo))
	if out, err := dnf.Install("kernel-core-"+kernelA, "kmod-"+demo.StableKmod, "kmod-"+demo.FragileKmod, "kmod-"+demo.TunableKmod, repoName+"-release"); err != nil {
		t.Errorf("dnf install from the crashed run's repository: %v\n%s", err, out)
	}
}

// dnfView is what dnf, checking repomd.xml's signature, lists in a
// repository: each package's NEVRA, source RPM and installed size.
func dnfView(t *testing.T, dir string) string {
	t.Helper()
	dnf := testutil.NewDNFRoot(t)
	dnf.AddRepo(dnfRepo(dir))
	out, err := dnf.Run("repoquery", "--repo", repoName, "--qf", "pkg %{name}-%{epoch}:%{version}-%{release}.%{arch} %{sourcerpm} %{installsize}")
	if err != nil {
		t.Fatalf("dnf repoquery %s: %v\n%s", dir, err, out)
	}
	var lines []string // without the key import dnf reports
	for l := range strings.Lines(out) {
		if strings.HasPrefix(l, "pkg ") {
			lines = append(lines, strings.TrimSpace(l))
		}
	}
	slices.Sort(lines)
	if len(lines) == 0 {
		t.Fatalf("dnf repoquery %s lists nothing:\n%s", dir, out)
	}
	return strings.Join(lines, "\n")
}

func dnfRepo(dir string) testutil.Repo {
	return testutil.Repo{Name: repoName, BaseURL: "file://" + dir, GPGKey: "file://" + filepath.Join(dir, publish.KeyFileKey(repoName))}
}

// rebuildInputs are what both runs rebuild from: the demo kernel A and its
// kmods as SRPMs built once, and one signing key.
type rebuildInputs struct {
	upstream, keyFile string
	kmods             []pipeline.KmodSpec
}

func newRebuildInputs(t *testing.T) rebuildInputs {
	t.Helper()
	root := t.TempDir()
	in := rebuildInputs{upstream: filepath.Join(root, "upstream"), keyFile: filepath.Join(root, "key.asc")}
	key, err := sign.Generate("crash", "crash@example.org", sign.RSA4096)
	if err != nil {
		t.Fatal(err)
	}
	var armor bytes.Buffer
	if err := key.WritePrivate(&armor, []byte(passphrase)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(in.keyFile, armor.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := demo.KernelSRPM(in.upstream, demo.BaseKernel()); err != nil {
		t.Fatal(err)
	}
	for _, k := range demo.Kmods(kernelA) {
		in.kmods = append(in.kmods, pipeline.KmodSpec{Name: k.Name, Package: "kmod-" + k.Name, Source: "upstream"})
		if _, err := demo.KmodSRPM(in.upstream, k); err != nil {
			t.Fatal(err)
		}
	}
	return in
}

// rebuildRun is one finished rebuild of kernel A: its result and the
// repository it published to.
type rebuildRun struct {
	res  workflows.RebuildResult
	repo string
}

// run rebuilds kernel A on its own dev server with a worker process, from
// a copy of the inputs, its stores under parent/name. With crashes, the worker is killed once in the
// kernel build and once in the publish, and restarted each time.
func (in rebuildInputs) run(t *testing.T, parent, name string, crashes bool) rebuildRun {
	srv := devtest.Start(t, devtest.Options{Headless: true})
	c, err := client.Dial(client.Options{HostPort: srv.Frontend, Namespace: srv.Namespace,
		Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root := filepath.Join(parent, name)
	spec := workerSpec{Frontend: srv.Frontend, Namespace: srv.Namespace, Queue: name, BuildQueue: "build-x86_64-" + name,
		Upstream: filepath.Join(root, "upstream"), Artifacts: filepath.Join(root, "artifacts"), Repo: filepath.Join(root, "repo"),
		KeyFile: in.keyFile, WorkDir: t.TempDir(), PublishHeartbeat: 3 * time.Second,
		// Both runs' <name>-release install one .repo file: the base URL
		// is the repository's address for clients, not where a run's
		// store happens to be (dnf here reads each store by its path).
		BaseURL: "https://repo.invalid/" + repoName + "/"}
	if crashes {
		spec.BuildDelay, spec.CASDelay = 2*time.Second, 2*time.Second
	}
	if err := os.CopyFS(spec.Upstream, os.DirFS(in.upstream)); err != nil {
		t.Fatal(err)
	}
	plan := workflows.Plan{Source: "upstream", Stream: "el8", Arches: []workflows.Arch{{Name: "x86_64", Queue: spec.BuildQueue}},
		Repository: repoName, ControlQueue: spec.Queue, Gate: workflows.Gate{On: []pipeline.GateCondition{pipeline.GateKmodFailed}}, Kmods: in.kmods,
		Timeouts: workflows.Timeouts{Build: 10 * time.Minute, Heartbeat: 3 * time.Second, Activity: 5 * time.Minute}}

	w := startWorker(t, spec)
	pkg := pipeline.SourcePackage{Name: "kernel", Version: "4.18.0", Release: "80.el8", Arch: "src", Location: "kernel-" + kernelA + ".src.rpm", Size: -1}
	run, err := workflows.StartRebuild(context.Background(), c, plan, pkg)
	if err != nil {
		t.Fatal(err)
	}
	if crashes {
		waitActivityStarted(t, c, pipeline.BuildID("kernel-"+kernelA, "x86_64"), "Build")
		crash(t, w)
		w = startWorker(t, spec)
		waitActivityStarted(t, c, pipeline.RepoPublishID(repoName), "Publish")
		time.Sleep(time.Second) // into the publish: packages uploading, repomd not yet switched
		crash(t, w)
		startWorker(t, spec)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.RebuildResult
	if err := run.Get(ctx, &res); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if res.Stage != pipeline.StagePublished || res.Published == nil || !res.Published.Committed {
		t.Fatalf("result %+v", res)
	}
	if crashes {
		for _, id := range []string{pipeline.BuildID("kernel-"+kernelA, "x86_64"), pipeline.RepoPublishID(repoName)} {
			if n := retriedAttempts(t, c, id); n < 2 {
				t.Errorf("%s: last activity attempt %d; the crash did not interrupt it", id, n)
			}
		}
	}
	if j := repotest.Journal(t, spec.Repo); len(j.Generations) != 1 {
		t.Errorf("repository has %d generations, want exactly one publish", len(j.Generations))
	}
	return rebuildRun{res: res, repo: spec.Repo}
}
