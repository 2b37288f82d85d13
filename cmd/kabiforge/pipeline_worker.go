package main

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/workflows"
)

// workerCommand runs a kabiforge worker against the configured cluster.
func (a *app) workerCommand() *cobra.Command {
	var file string
	var queues []string
	var metrics string
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a worker: the pipeline workflows and/or the builds of some arches",
		Long: "Run a worker against the configured Temporal service. By default it polls the\n" +
			"control queue (the pipeline workflows and their light activities; it also creates\n" +
			"or updates the watch schedules) and every arch's build queue; --queues picks some.\n" +
			"SIGTERM or SIGINT stops it gracefully: running builds get their cancellation.",
		Args: cobra.NoArgs,
		// A second signal stops it at once.
		Annotations: map[string]string{annotationGrace: "30s"},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig(file)
			if err != nil {
				return err
			}
			if metrics != "" {
				cfg.HTTP.Metrics = metrics
			}
			all := configuredQueues(cfg)
			if len(queues) == 0 {
				queues = all
			}
			for _, q := range queues {
				if !slices.Contains(all, q) {
					return badInput(fmt.Errorf("--queues: %q is not a configured queue (%v)", q, all))
				}
			}
			c, err := a.dialTemporal(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			stop, err := a.startWorkers(ctx, cfg, c, queues)
			if err != nil {
				return err
			}
			defer stop()
			<-ctx.Done()
			a.log.Info().Msg("stopping worker")
			return nil
		},
	}
	addConfigFlag(cmd, &file)
	cmd.Flags().StringSliceVar(&queues, "queues", nil, "task queues to poll (default: the control queue and every arch's)")
	cmd.Flags().StringVar(&metrics, "metrics", "", "serve Prometheus metrics on this address, e.g. 127.0.0.1:9090 (default http.metrics)")
	return cmd
}

// configuredQueues are the control queue, every arch's build queue and
// the boot queue of every boot-tested arch.
func configuredQueues(cfg *config.Config) []string {
	queues := []string{cfg.Temporal.TaskQueue}
	for _, arch := range cfg.Arches {
		queues = append(queues, arch.Queue)
		if arch.BootTested() {
			queues = append(queues, cmp.Or(arch.Boot.Queue, pipeline.BootQueuePrefix+arch.Name))
		}
	}
	return queues
}

// mockToolsDir is where mock buildroots find the kabiforge binary.
const mockToolsDir = "/usr/libexec/kabiforge"

// startWorkers polls queues with kabiforge's workflows (control queue)
// and activities, and, with the control queue, ensures the watch schedules.
// Each of tune adjusts the activities before the workers start.
func (a *app) startWorkers(ctx context.Context, cfg *config.Config, c client.Client, queues []string, tune ...func(*activities.Activities)) (stop func(), err error) {
	acts, err := activities.New(ctx, cfg, c)
	if err != nil {
		return nil, badInput(err)
	}
	self, err := a.selfPath()
	if err != nil {
		return nil, err
	}
	inBuild := self // this binary as builds see it
	switch b := acts.Builder.(type) {
	case *build.Rpmbuild:
		b.Macros = map[string]string{"__kabiforge": self}
	case *build.Mock:
		// mock buildroots reach it through a bind mount of its directory.
		inBuild = path.Join(mockToolsDir, filepath.Base(self))
		b.BindMounts = maps.Clone(b.BindMounts)
		if b.BindMounts == nil {
			b.BindMounts = map[string]string{}
		}
		b.BindMounts[filepath.Dir(self)] = mockToolsDir
		b.Macros = maps.Clone(b.Macros)
		if b.Macros == nil {
			b.Macros = map[string]string{}
		}
		b.Macros["__kabiforge"] = inBuild
	}
	// kmod specs run this binary as their kABI dependency generator
	// (%__kabiforge), and builds sign modules and kernel images with it.
	if acts.ModuleKey != nil {
		acts.ModuleSignCommand = []string{inBuild, "modsign", "sign-buildroot"}
	}
	for _, f := range tune {
		f(acts)
	}
	if cfg.HTTP.Metrics != "" {
		m := newPromMetrics()
		if err := a.serveMetrics(ctx, cfg.HTTP.Metrics, m); err != nil {
			return nil, err
		}
		acts.Metrics = m
	}
	var started []worker.Worker
	stop = func() {
		for _, w := range started {
			w.Stop()
		}
	}
	for _, q := range queues {
		w := worker.New(c, q, worker.Options{WorkerStopTimeout: 30 * time.Second,
			MaxConcurrentActivityExecutionSize: activitySlots(q, cfg.Temporal.TaskQueue, cfg.Builder.Concurrency)})
		if q == cfg.Temporal.TaskQueue {
			workflows.Register(w)
		}
		activities.Register(w, acts)
		if err := w.Start(); err != nil {
			stop()
			return nil, fmt.Errorf("start worker on %s: %w", q, err)
		}
		started = append(started, w)
		a.log.Info().Str("queue", q).Msg("worker polling")
	}
	if slices.Contains(queues, cfg.Temporal.TaskQueue) {
		if err := workflows.EnsureWatchSchedules(ctx, c, cfg); err != nil {
			stop()
			return nil, err
		}
	}
	return stop, nil
}

// activitySlots lets the control queue run many light activities at once;
// a build queue runs builder.concurrency builds.
func activitySlots(q, control string, builds int) int {
	if q == control {
		return 50
	}
	return max(builds, 1)
}

// selfPath is the kabiforge binary that signs modules and generates kABI
// dependencies inside builds.
func (a *app) selfPath() (string, error) {
	if a.self != "" {
		return a.self, nil
	}
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("locate the kabiforge binary for module signing: %w", err)
	}
	return p, nil
}
