//go:build topology

package topology

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/repotest"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/workflows"
)

// run is one rebuild of the demo kernel in its own namespace of the cluster,
// by its own control worker and two build hosts.
type run struct {
	ns      string
	config  string
	client  client.Client
	control *workerProc
	hosts   []*workerProc // one per build host, in c.net.hosts order
	started time.Time
}

// fault disturbs a run mid-build and returns how long the topology took to
// recover, by the fault's own measure.
type fault func(t *testing.T, c *cluster, r *run) time.Duration

// The production shape, disturbed four ways: each rebuild ends with exactly
// one publish and the same repository as an undisturbed run's. Then the
// throughput of orchestration on it, against the SQLite dev server.
func TestScaleOut(t *testing.T) {
	c := newCluster(t)
	calm, calmTook, _, calmConfig := c.rebuild(t, "calm", nil)
	t.Logf("undisturbed rebuild: %v", calmTook.Round(time.Millisecond))
	for _, f := range []struct {
		name string
		f    fault
	}{
		{"kill", killBuildHost},
		{"cut", cutBuildHost},
		{"restart", restartServer},
		{"pgstop", stopPostgres},
	} {
		t.Run(f.name, func(t *testing.T) {
			repo, took, recovery, config := c.rebuild(t, f.name, f.f)
			// One line per fault, for the record: recovery by the fault's
			// own measure (see each fault), the whole rebuild, and its cost
			// over the undisturbed one.
			t.Logf("fault=%s recovery=%v rebuild=%v undisturbed=%v extra=%v", f.name, recovery.Round(time.Millisecond),
				took.Round(time.Millisecond), calmTook.Round(time.Millisecond), (took - calmTook).Round(time.Millisecond))
			// Each run has its own namespace and store prefixes, so its
			// provenance names its own configuration.
			repotest.SameConfigs(t, calm, repo, c.configHash(t, calmConfig), c.configHash(t, config))
		})
	}
	t.Run("throughput", func(t *testing.T) {
		if testing.Short() {
			t.Skip("a measurement: runs without -short")
		}
		c.kabiforge(t, "cluster", "setup", "--config", c.runConfig(t, "throughput"))
		compareThroughput(t, measureThroughput(t, c.dial(t, "throughput")))
	})
}

// rebuild runs one rebuild of the demo kernel in namespace ns, disturbed by
// f unless it is nil, and returns the repository it published, downloaded
// from S3, how long it took, how long f said recovery took, and its
// configuration file.
func (c *cluster) rebuild(t *testing.T, ns string, f fault) (repo string, took, recovery time.Duration, config string) {
	t.Helper()
	r := &run{ns: ns, config: c.runConfig(t, ns)}
	out := c.kabiforge(t, "cluster", "setup", "--config", r.config)
	if !strings.Contains(out, "registered") || !strings.Contains(out, "search attributes added") {
		t.Fatalf("first cluster setup of %s:\n%s", ns, out)
	}
	if out := c.kabiforge(t, "cluster", "setup", "--config", r.config); !strings.Contains(out, "exists") || !strings.Contains(out, "all present") {
		t.Fatalf("second cluster setup of %s changed something:\n%s", ns, out)
	}
	r.client = c.dial(t, ns)
	r.control = c.startWorker(t, r.config, "kabiforge", "")
	for _, h := range c.net.hosts {
		r.hosts = append(r.hosts, c.startWorker(t, r.config, "build-x86_64", h.name))
	}
	nvr := demo.BaseKernel().NVR
	r.started = time.Now()
	c.kabiforge(t, "rebuild", nvr, "--config", r.config)
	if f != nil {
		recovery = f(t, c, r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.RebuildResult
	if err := r.client.GetWorkflow(ctx, workflows.KernelID(nvr), "").Get(ctx, &res); err != nil {
		t.Fatalf("rebuild in %s: %v", ns, err)
	}
	took = time.Since(r.started)
	if res.Stage != pipeline.StagePublished || res.Published == nil || !res.Published.Committed {
		t.Fatalf("rebuild in %s: result %+v", ns, res)
	}
	repo = filepath.Join(t.TempDir(), "repo")
	c.download(t, ns+"/repos/el8/", repo)
	if n := len(repotest.Journal(t, repo).Generations); n != 1 {
		t.Errorf("%s: repository has %d generations, want exactly one publish", ns, n)
	}
	return repo, took, recovery, r.config
}

// configHash is the hash provenance records name for the configuration
// file: what `kabiforge rebuild --config file` computes in the
// environment the cluster's processes get.
func (c *cluster) configHash(t *testing.T, file string) string {
	t.Helper()
	env := map[string]string{}
	for _, kv := range c.env() {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	cfg, err := config.Load(file, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	return activities.ConfigHash(cfg)
}

// buildAttempt waits for the kernel build activity to be running and
// returns which worker runs it (the index in r.hosts) and its attempt.
func buildAttempt(t *testing.T, r *run, after int32) (host int, attempt int32) {
	t.Helper()
	id := pipeline.BuildID("kernel-"+demo.BaseKernel().NVR, "x86_64")
	for deadline := time.Now().Add(5 * time.Minute); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		d, err := r.client.DescribeWorkflowExecution(context.Background(), id, "")
		if err != nil {
			continue
		}
		for _, a := range d.PendingActivities {
			if a.ActivityType.GetName() != "Build" || a.State != enumspb.PENDING_ACTIVITY_STATE_STARTED || a.Attempt <= after {
				continue
			}
			pid, _, _ := strings.Cut(a.LastWorkerIdentity, "@")
			for i, w := range r.hosts {
				if strconv.Itoa(w.cmd.Process.Pid) == pid {
					return i, a.Attempt
				}
			}
			t.Fatalf("build runs on %q, which is no build host", a.LastWorkerIdentity)
		}
	}
	t.Fatalf("%s: no build attempt after %d started", id, after)
	return 0, 0
}
