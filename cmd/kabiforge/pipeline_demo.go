package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/workflows"
)

// Demo kernel choices of `kabiforge dev --demo-kernels`.
const (
	demoAuto      = "auto"      // the real family when it can be fetched, else synthetic
	demoReal      = "real"      // the real family or an error
	demoSynthetic = "synthetic" // the synthetic kernels and kmods
)

// demoKernel is one kernel the demo drops upstream.
type demoKernel struct {
	nvr   string
	write func(dir string) error
}

// demoRun is what `kabiforge dev --demo` seeds: kernels, each dropped
// upstream once the one before is published, and the kmods, dropped with
// the first kernel.
type demoRun struct {
	real    bool
	version string // the kernel version the stream tracks
	kmods   []string
	kernels []demoKernel
	// writeKmods writes the kmods' source packages for the first kernel.
	writeKmods func(dir string) error
	out        *demoOut
}

// demoOut serializes the demo's progress lines.
type demoOut struct {
	mu sync.Mutex
	w  io.Writer
}

func (o *demoOut) printf(format string, args ...any) {
	o.mu.Lock()
	defer o.mu.Unlock()
	fmt.Fprintf(o.w, "demo: "+format+"\n", args...)
}

// planDemo chooses the demo's kernels: the real family's 6.1.0-47, its
// z-stream rebuild 47.1 and 6.1.0-57 with the three real kmods, fetched
// first (progress lines on w); the synthetic kernels when mode says so or,
// in auto mode, with one line saying why, when the family cannot be fetched.
func planDemo(ctx context.Context, w io.Writer, mode string) (*demoRun, error) {
	out := &demoOut{w: w}
	if mode == demoSynthetic {
		return syntheticDemo(out), nil
	}
	run, err := realDemo(ctx, out)
	if err == nil {
		return run, nil
	}
	if mode == demoReal || ctx.Err() != nil {
		return nil, fmt.Errorf("demo: real kernel family: %w", err)
	}
	out.printf("real kernel family unavailable (%v); running the synthetic demo", err)
	return syntheticDemo(out), nil
}

// realDemo fetches the real family's two ABIs.
func realDemo(ctx context.Context, out *demoOut) (*demoRun, error) {
	f, err := kernelfamily.NewFetcher("")
	if err != nil {
		return nil, err
	}
	f.Progress = func(line string) { out.printf("download: %s", line) }
	var ks []demo.RealKernel
	for _, abi := range []string{"6.1.0-47", "6.1.0-57"} {
		k, err := demo.RealKernels(ctx, f, abi)
		if err != nil {
			return nil, err
		}
		out.printf("download: kernel %s ready (Debian %s, cached in %s)", abi, k[0].Tree.Version, k[0].Tree.Root)
		ks = append(ks, k[0])
	}
	n1, n2 := ks[0], ks[1]
	zs := demo.RealKernel{Tree: n1.Tree, Release: n1.Release + ".1"}
	run := &demoRun{real: true, version: n1.Version(), kmods: demo.RealKmodNames(), out: out}
	for _, k := range []demo.RealKernel{n1, zs, n2} {
		run.kernels = append(run.kernels, demoKernel{nvr: k.NVR(".el8"), write: func(dir string) error {
			out.printf("kernel package: writing kernel-%s.src.rpm from Debian's %s packages", k.NVR(".el8"), k.Tree.Release)
			_, err := demo.RealKernelSRPM(dir, k)
			return err
		}})
	}
	run.writeKmods = func(dir string) error {
		for _, name := range demo.RealKmodNames() {
			if _, err := demo.RealKmodSRPM(dir, name, n1.NVR(".el8"), "1"); err != nil {
				return err
			}
		}
		return nil
	}
	out.printf("real kernel family: %s, its z-stream rebuild %s, then %s; kmods %s",
		n1.NVR(".el8"), zs.NVR(".el8"), n2.NVR(".el8"), strings.Join(run.kmods, ", "))
	return run, nil
}

// syntheticDemo is the demo kernel 4.18.0-80.el8, on RHEL 8.0's real
// stablelist, then a next kernel that changes one symbol fragiledrv uses.
func syntheticDemo(out *demoOut) *demoRun {
	base := demo.BaseKernel()
	next := demo.NextKernel(base, "4.18.0-80.1.2.el8_0")
	run := &demoRun{version: "4.18.0", out: out}
	for _, k := range demo.Kmods(base.NVR) {
		run.kmods = append(run.kmods, k.Name)
	}
	for _, k := range []demo.Kernel{base, next} {
		run.kernels = append(run.kernels, demoKernel{nvr: k.NVR, write: func(dir string) error {
			_, err := demo.KernelSRPM(dir, k)
			return err
		}})
	}
	run.writeKmods = func(dir string) error {
		for _, m := range demo.Kmods(base.NVR) {
			if _, err := demo.KmodSRPM(dir, m); err != nil {
				return err
			}
		}
		return nil
	}
	return run
}

// configure makes cfg run the demo when it configures no kmods of its own:
// the demo's kmods, and its kernel version on the default stream.
func (r *demoRun) configure(cfg *config.Config) {
	if len(cfg.Kmods) > 0 {
		return
	}
	for _, name := range r.kmods {
		cfg.Kmods = append(cfg.Kmods, config.Kmod{Name: name, Package: "kmod-" + name,
			Source: cfg.Sources[0].Name, Rebuild: config.RebuildOnBreak})
	}
	for i := range cfg.Streams {
		cfg.Streams[i].Version = r.version
	}
}

// tuneWorker sets what the real kernels and kmods need of the rpmbuild
// builder: a zstd payload, and the host's compilers and tools as provided.
func (r *demoRun) tuneWorker(acts *activities.Activities) {
	if b, ok := acts.Builder.(*build.Rpmbuild); ok && r.real {
		b.BinaryPayload = demo.RealPayload
		b.HostProvides = append(b.HostProvides, demo.RealHostProvides()...)
	}
}

// seed drops the demo's kernels into the upstream folder one after the
// other, each once the one before is published, triggering the watch and
// printing each rebuild's progress.
func (r *demoRun) seed(ctx context.Context, a *app, cfg *config.Config, c client.Client) {
	dir := sourceDir(cfg.Sources[0])
	if dir == "" {
		a.log.Error().Msg("--demo needs a folder source")
		return
	}
	if err := r.writeKmods(dir); err != nil {
		a.log.Error().Err(err).Msg("demo kmods")
		return
	}
	for _, k := range r.kernels {
		if err := k.write(dir); err != nil {
			a.log.Error().Err(err).Msg("demo kernel")
			return
		}
		for _, s := range cfg.Sources {
			id := workflows.WatchScheduleID(s.Name)
			if err := c.ScheduleClient().GetHandle(ctx, id).Trigger(ctx, client.ScheduleTriggerOptions{}); err != nil {
				a.log.Warn().Err(err).Str("schedule", id).Msg("trigger watch")
			}
		}
		a.log.Info().Str("kernel", k.nvr).Msg("demo kernel is upstream")
		if !r.follow(ctx, c, k.nvr) {
			return
		}
	}
}

// follow prints a kernel's rebuild progress (stage and kmod changes) until
// it is published (true) or stops elsewhere (false).
func (r *demoRun) follow(ctx context.Context, c client.Client, nvr string) bool {
	var last workflows.Status
	for ctx.Err() == nil {
		s, err := workflows.GetStatus(ctx, c, nvr)
		if err != nil {
			time.Sleep(time.Second)
			continue
		}
		r.report(last, s)
		last = s
		switch s.Stage {
		case pipeline.StagePublished:
			return true
		case pipeline.StageFailed, pipeline.StageRejected, pipeline.StageAwaitingApproval:
			return false
		}
		time.Sleep(time.Second)
	}
	return false
}

// report prints what changed between two status snapshots of a rebuild.
func (r *demoRun) report(old, cur workflows.Status) {
	if cur.Stage != old.Stage {
		line := fmt.Sprintf("%s: %s", cur.KernelNVR, cur.Stage)
		switch cur.Stage {
		case pipeline.StageRebuildingKmods, pipeline.StageVerifying:
			if cur.Kabi.Previous != "" && old.Kabi.Previous == "" {
				line += fmt.Sprintf(" (kABI since %s: %d added, %d removed, %d changed)",
					cur.Kabi.Previous, cur.Kabi.Added, cur.Kabi.Removed, cur.Kabi.Changed)
			}
		case pipeline.StagePublished:
			line += " (" + r.outcome(cur) + ")"
		}
		r.out.printf("%s", line)
	}
	for _, name := range slices.Sorted(maps.Keys(cur.Kmods)) {
		u := cur.Kmods[name]
		if old.Kmods[name].State == u.State {
			continue
		}
		switch u.State {
		case pipeline.StateBuilding:
			r.out.printf("kmod compile: %s for %s", name, cur.KernelNVR)
		case pipeline.StateRebuilt, pipeline.StateFailed:
			r.out.printf("kmod %s: %s (%s)", name, u.State, u.Reason)
		}
	}
}

// outcome says which kmods were kept and which rebuilt.
func (r *demoRun) outcome(s workflows.Status) string {
	var kept, rebuilt []string
	for _, name := range slices.Sorted(maps.Keys(s.Kmods)) {
		switch s.Kmods[name].State {
		case pipeline.StateCompatible:
			kept = append(kept, name)
		case pipeline.StateRebuilt:
			rebuilt = append(rebuilt, name)
		}
	}
	return fmt.Sprintf("publish: kmods kept [%s], rebuilt [%s]", strings.Join(kept, " "), strings.Join(rebuilt, " "))
}
