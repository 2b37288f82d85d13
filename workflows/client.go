package workflows

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/pipeline"
)

// PlanFor returns the plan of a configured stream's kernels. cfg comes from
// config.Load or config.Parse, which fill in every default.
func PlanFor(cfg *config.Config, stream config.Stream) Plan {
	p := Plan{Source: stream.Source, Stream: stream.Name,
		Repository: stream.Repository, KmodParallel: cfg.Builder.KmodParallel,
		KabiPolicy:   stream.KabiPolicy,
		Gate:         Gate{On: cfg.Gate.On, Timeout: cfg.Gate.Timeout, TimeoutAction: string(cfg.Gate.TimeoutAction)},
		Timeouts:     Timeouts{Build: cfg.Builder.TimeLimit, Heartbeat: cfg.Builder.HeartbeatTimeout},
		ControlQueue: cfg.Temporal.TaskQueue, ConfigHash: activities.ConfigHash(cfg)}
	if r, ok := cfg.Repository(p.Repository); ok {
		p.RepoURL = r.BaseURL
	}
	for _, a := range cfg.Arches {
		if len(stream.Arches) > 0 && !slices.Contains(stream.Arches, a.Name) {
			continue
		}
		p.Arches = append(p.Arches, Arch{Name: a.Name, Queue: a.Queue, Boot: bootVM(a)})
	}
	for _, k := range cfg.Kmods {
		if !k.BuildsFor(stream.Name) {
			continue
		}
		p.Kmods = append(p.Kmods, pipeline.KmodSpec{Name: k.Name, Package: k.Package,
			Source: k.Source, Always: k.Rebuild == config.RebuildAlways})
	}
	return p
}

// bootVM is an arch's boot test settings, nil when boot_test is off.
func bootVM(a config.Arch) *pipeline.BootVM {
	if !a.BootTested() {
		return nil
	}
	b := a.Boot
	return &pipeline.BootVM{Queue: b.Queue, QEMU: b.QEMU,
		MemoryMiB: b.MemoryMiB, TimeLimit: b.TimeLimit, Accel: b.Accel, Args: b.KernelArgs}
}

// WatchInputFor returns the input of the watch of a configured source: the
// streams that track it.
func WatchInputFor(cfg *config.Config, src string) WatchInput {
	in := WatchInput{Source: src}
	for _, s := range cfg.Streams {
		if s.Source != src {
			continue
		}
		in.Streams = append(in.Streams, WatchStream{Version: s.Version, Release: s.Release, Plan: PlanFor(cfg, s)})
	}
	for _, s := range cfg.Streams {
		for _, r := range s.References {
			if r.Source == src {
				in.References = append(in.References, WatchReference{Version: r.Version, Release: r.Release, Plan: PlanFor(cfg, s)})
			}
		}
	}
	return in
}

// WatchScheduleID is the ID of a source's watch schedule.
func WatchScheduleID(src string) string { return "watch/" + src }

// EnsureWatchSchedules creates, or updates to the current configuration, the
// schedule watch/<source> of every source a stream tracks: KernelWatch every
// poll interval, skipping a run while the previous one is still going.
func EnsureWatchSchedules(ctx context.Context, c client.Client, cfg *config.Config) error {
	for _, s := range cfg.Sources {
		in := WatchInputFor(cfg, s.Name)
		if len(in.Streams) == 0 && len(in.References) == 0 {
			continue
		}
		every := s.PollInterval
		if every <= 0 {
			every = config.DefaultPollInterval
		}
		if err := ensureSchedule(ctx, c, WatchScheduleID(s.Name), every, cfg.Temporal.TaskQueue, in); err != nil {
			return err
		}
	}
	return nil
}

func ensureSchedule(ctx context.Context, c client.Client, id string, every time.Duration, queue string, in WatchInput) error {
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	action := &client.ScheduleWorkflowAction{ID: id, Workflow: pipeline.KernelWatchWorkflow, Args: []any{in}, TaskQueue: queue}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{ID: id, Spec: spec, Action: action,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, TriggerImmediately: true})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		if err != nil {
			return fmt.Errorf("create schedule %s: %w", id, err)
		}
		return nil
	}
	err = c.ScheduleClient().GetHandle(ctx, id).Update(ctx, client.ScheduleUpdateOptions{
		DoUpdate: func(u client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
			s := u.Description.Schedule
			s.Spec, s.Action = &spec, action
			return &client.ScheduleUpdate{Schedule: &s}, nil
		}})
	if err != nil {
		return fmt.Errorf("update schedule %s: %w", id, err)
	}
	return nil
}

// StartRebuild starts the rebuild of a kernel by hand. A kernel already
// built or running is refused; one whose last rebuild failed, was
// cancelled or terminated is started again.
func StartRebuild(ctx context.Context, c client.Client, plan Plan, kernel pipeline.SourcePackage) (client.WorkflowRun, error) {
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID: pipeline.RebuildID(kernel), TaskQueue: plan.ControlQueue,
		WorkflowIDReusePolicy:                    enumspb.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE_FAILED_ONLY,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    temporal.NewSearchAttributes(KernelNVRKey.ValueSet(kernelVR(kernel))),
	}, pipeline.KernelRebuildWorkflow, RebuildInput{Kernel: kernel, Plan: plan})
	if err != nil {
		return nil, fmt.Errorf("start rebuild of %s: %w", kernel.NVR(), err)
	}
	return run, nil
}

// KernelID returns the rebuild workflow ID of a kernel named by its
// version-release ("4.18.0-80.el8") or full NVR ("kernel-4.18.0-80.el8").
func KernelID(nvr string) string {
	if len(nvr) > 7 && nvr[:7] == "kernel-" && nvr[7] >= '0' && nvr[7] <= '9' {
		nvr = nvr[7:]
	}
	return "kernel/" + nvr
}

// Approve lets a gated kernel through.
func Approve(ctx context.Context, c client.Client, nvr, comment string) error {
	return signal(ctx, c, nvr, pipeline.ApproveSignal, comment)
}

// Reject ends a gated kernel's rebuild with nothing published.
func Reject(ctx context.Context, c client.Client, nvr, reason string) error {
	return signal(ctx, c, nvr, pipeline.RejectSignal, reason)
}

// RetryKmod rebuilds one kmod of a kernel waiting at the gate.
func RetryKmod(ctx context.Context, c client.Client, nvr, kmod string) error {
	return signal(ctx, c, nvr, pipeline.RetryKmodSignal, kmod)
}

func signal(ctx context.Context, c client.Client, nvr, name string, arg any) error {
	if err := c.SignalWorkflow(ctx, KernelID(nvr), "", name, arg); err != nil {
		return fmt.Errorf("%s %s: %w", name, nvr, err)
	}
	return nil
}

// GetStatus returns the status of a kernel's rebuild.
func GetStatus(ctx context.Context, c client.Client, nvr string) (Status, error) {
	var s Status
	v, err := c.QueryWorkflow(ctx, KernelID(nvr), "", pipeline.StatusQuery)
	if err == nil {
		err = v.Get(&s)
	}
	if err != nil {
		return Status{}, fmt.Errorf("status of %s: %w", nvr, err)
	}
	return s, nil
}
