//go:build topology

package topology

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/workflows"
)

// killBuildHost SIGKILLs the build host running the kernel build; its
// heartbeat times out and the build runs again on the other host. Recovery:
// from the kill to the build running on the other host.
func killBuildHost(t *testing.T, c *cluster, r *run) time.Duration {
	host, attempt := buildAttempt(t, r, 0)
	time.Sleep(2 * time.Second) // into rpmbuild's %build
	began := time.Now()
	r.hosts[host].kill()
	other, _ := buildAttempt(t, r, attempt)
	if other == host {
		t.Fatalf("the build ran again on the killed host %d", host)
	}
	return time.Since(began)
}

// cutBuildHost takes down the link of the build host running the kernel
// build until the rebuild has published, then brings it back: the build
// moves to the other host, and the cut-off host's late result, delivered
// once the link returns, is refused, so nothing is published twice.
// Recovery: from the cut to the build running on the other host.
func cutBuildHost(t *testing.T, c *cluster, r *run) time.Duration {
	host, attempt := buildAttempt(t, r, 0)
	time.Sleep(2 * time.Second)
	began := time.Now()
	c.net.hosts[host].cut(t, true)
	other, _ := buildAttempt(t, r, attempt)
	took := time.Since(began)
	if other == host {
		t.Fatalf("the build ran again on the cut-off host %d", host)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var res workflows.RebuildResult
	if err := r.client.GetWorkflow(ctx, workflows.KernelID(demo.BaseKernel().NVR), "").Get(ctx, &res); err != nil {
		t.Fatalf("rebuild with a host cut off: %v", err)
	}
	// The cut-off host's rpmbuild has finished by now; let it reach the
	// server with its result.
	c.net.hosts[host].cut(t, false)
	time.Sleep(2 * heartbeatTimeout(t))
	select {
	case <-r.hosts[host].done:
		t.Errorf("the cut-off build host exited instead of carrying on")
	default:
	}
	return took
}

// restartServer stops the Temporal server mid-build and starts it again.
// Recovery: from the stop to the frontend serving again.
func restartServer(t *testing.T, c *cluster, r *run) time.Duration {
	buildAttempt(t, r, 0)
	time.Sleep(2 * time.Second)
	began := time.Now()
	c.temporal.stop(t)
	c.temporal.start(t)
	return time.Since(began)
}

// stopPostgres stops PostgreSQL for 10 s mid-build. The Temporal server must
// survive it. Recovery: from PostgreSQL's return to the workflow answering
// a describe again.
func stopPostgres(t *testing.T, c *cluster, r *run) time.Duration {
	buildAttempt(t, r, 0)
	time.Sleep(2 * time.Second)
	c.pg.stop(t)
	time.Sleep(10 * time.Second)
	c.pg.start(t)
	began := time.Now()
	waitFor(t, 3*time.Minute, "the rebuild answering after PostgreSQL returned", func() error {
		_, err := r.client.DescribeWorkflowExecution(context.Background(), workflows.KernelID(demo.BaseKernel().NVR), "")
		return err
	})
	took := time.Since(began)
	select {
	case <-c.temporal.exited:
		t.Fatalf("the Temporal server exited while PostgreSQL was down")
	default:
	}
	if err := syscall.Kill(c.temporal.cmd.Process.Pid, 0); err != nil {
		t.Fatalf("the Temporal server is gone: %v", err)
	}
	return took
}

func heartbeatTimeout(t *testing.T) time.Duration {
	d, err := time.ParseDuration(heartbeat)
	if err != nil {
		t.Fatal(err)
	}
	return d
}
