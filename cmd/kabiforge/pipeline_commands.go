package main

import (
	"encoding/json"
	"fmt"
	enumspb "go.temporal.io/api/enums/v1"
	"io"
	"maps"
	"path"
	"slices"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/kernelnvr"
	"github.com/kabiforge/kabiforge/repo/source"
	"github.com/kabiforge/kabiforge/workflows"
)

// pipelineCommand builds a command that talks to the Temporal service.
func (a *app) pipelineCommand(use, short string, args cobra.PositionalArgs,
	run func(cmd *cobra.Command, cfg *config.Config, c client.Client, args []string) error) *cobra.Command {
	return a.checkedPipelineCommand(use, short, args, nil, run)
}

// checkedPipelineCommand is pipelineCommand with check, when not nil, run
// on the configuration and arguments before Temporal is dialled: bad input
// is reported as such even when no server is reachable.
func (a *app) checkedPipelineCommand(use, short string, args cobra.PositionalArgs,
	check func(cfg *config.Config, args []string) error,
	run func(cmd *cobra.Command, cfg *config.Config, c client.Client, args []string) error) *cobra.Command {
	var file string
	cmd := &cobra.Command{Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(file)
			if err != nil {
				return err
			}
			if check != nil {
				if err := check(cfg, args); err != nil {
					return err
				}
			}
			c, err := a.dialTemporal(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			return run(cmd, cfg, c, args)
		}}
	addConfigFlag(cmd, &file)
	return cmd
}

// approveCommand lets a gated kernel through.
func (a *app) approveCommand() *cobra.Command {
	var comment string
	cmd := a.pipelineCommand("approve NVR", "Let a kernel waiting at the gate be published", cobra.ExactArgs(1),
		func(cmd *cobra.Command, _ *config.Config, c client.Client, args []string) error {
			return workflows.Approve(cmd.Context(), c, args[0], comment)
		})
	cmd.Flags().StringVar(&comment, "comment", "", "why it is approved")
	return cmd
}

// rejectCommand ends a gated kernel's rebuild with nothing published.
func (a *app) rejectCommand() *cobra.Command {
	var reason string
	cmd := a.pipelineCommand("reject NVR --reason TEXT", "Refuse a kernel waiting at the gate: nothing is published", cobra.ExactArgs(1),
		func(cmd *cobra.Command, _ *config.Config, c client.Client, args []string) error {
			if reason == "" {
				return badInput(fmt.Errorf("--reason is required"))
			}
			return workflows.Reject(cmd.Context(), c, args[0], reason)
		})
	cmd.Flags().StringVar(&reason, "reason", "", "why it is rejected (required)")
	return cmd
}

// retryKmodCommand rebuilds one kmod of a kernel waiting at the gate.
func (a *app) retryKmodCommand() *cobra.Command {
	return a.pipelineCommand("retry-kmod NVR KMOD", "Rebuild a kmod of a kernel waiting at the gate", cobra.ExactArgs(2),
		func(cmd *cobra.Command, _ *config.Config, c client.Client, args []string) error {
			return workflows.RetryKmod(cmd.Context(), c, args[0], args[1])
		})
}

// statusCommand prints a rebuild's status.
func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := a.pipelineCommand("status [NVR]", "List recent kernel rebuilds, or show one's stage, arches, kmods and kABI summary", cobra.MaximumNArgs(1),
		func(cmd *cobra.Command, _ *config.Config, c client.Client, args []string) error {
			if len(args) == 0 {
				return listRebuilds(cmd, c, asJSON)
			}
			s, err := workflows.GetStatus(cmd.Context(), c, args[0])
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, s)
			}
			fmt.Fprintf(out, "kernel %s: %s\n", s.KernelNVR, s.Stage)
			for _, r := range s.Gate {
				fmt.Fprintf(out, "  waiting: %s\n", r)
			}
			printUnits(out, "arch", s.Arches)
			printUnits(out, "kmod", s.Kmods)
			printBoot(out, s.Boot)
			k := s.Kabi
			fmt.Fprintf(out, "kABI vs %s: %d added, %d removed, %d changed, stablelisted changed: %s\n",
				orNone(k.Previous), k.Added, k.Removed, k.Changed, orNone(strings.Join(k.StablelistChanged, ", ")))
			if s.RepoURL != "" {
				fmt.Fprintf(out, "repository: %s\n", s.RepoURL)
			}
			return nil
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// printBoot prints each arch's boot test, in arch order.
func printBoot(w io.Writer, boot map[string]workflows.BootUnit) {
	for _, arch := range slices.Sorted(maps.Keys(boot)) {
		u := boot[arch]
		fmt.Fprintf(w, "  boot %s: %s", arch, u.State)
		if u.Reason != "" {
			fmt.Fprintf(w, " (%s)", u.Reason)
		}
		if u.Log != nil {
			fmt.Fprintf(w, ", log %s", u.Log.Key)
		}
		fmt.Fprintln(w)
	}
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// listRebuilds prints the newest kernel rebuilds, one line each.
func listRebuilds(cmd *cobra.Command, c client.Client, asJSON bool) error {
	list, err := workflows.ListRebuilds(cmd.Context(), c, 20)
	if err != nil {
		return err
	}
	out := cmd.OutOrStdout()
	if asJSON {
		return printJSON(out, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "no kernel rebuilds yet")
	}
	for _, r := range list {
		broken := ""
		if r.Broken {
			broken = " kABI broken"
		}
		fmt.Fprintf(out, "%-28s %-10s %-20s kmods failed %d%s\n", r.KernelNVR, r.Status, r.Stage, r.KmodsFailed, broken)
	}
	return nil
}

func printUnits(out io.Writer, kind string, units map[string]workflows.Unit) {
	names := make([]string, 0, len(units))
	for n := range units {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		u := units[n]
		fmt.Fprintf(out, "  %s %s: %s", kind, n, u.State)
		if u.Reason != "" {
			fmt.Fprintf(out, " (%s)", u.Reason)
		}
		fmt.Fprintln(out)
	}
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

// watchCommand creates or updates the watch schedules and, with --now,
// runs them at once.
func (a *app) watchCommand() *cobra.Command {
	var now bool
	cmd := a.pipelineCommand("watch", "Create or update the watch schedules; --now runs them at once", cobra.NoArgs,
		func(cmd *cobra.Command, cfg *config.Config, c client.Client, _ []string) error {
			ctx := cmd.Context()
			if err := workflows.EnsureWatchSchedules(ctx, c, cfg); err != nil {
				return err
			}
			if !now {
				return nil
			}
			for _, s := range cfg.Sources {
				if in := workflows.WatchInputFor(cfg, s.Name); len(in.Streams) == 0 && len(in.References) == 0 {
					continue
				}
				id := workflows.WatchScheduleID(s.Name)
				// A run in progress (the one a worker's start triggered) may
				// have listed the source before what is new arrived: run
				// again after it rather than being skipped by the schedule.
				opts := client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE}
				if err := c.ScheduleClient().GetHandle(ctx, id).Trigger(ctx, opts); err != nil {
					return fmt.Errorf("trigger %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "triggered %s\n", id)
			}
			return nil
		})
	cmd.Flags().BoolVar(&now, "now", false, "run the watches now")
	return cmd
}

// rebuildCommand starts a kernel's rebuild by hand; a failed one is retried.
func (a *app) rebuildCommand() *cobra.Command {
	return a.checkedPipelineCommand("rebuild NVR|URL", "Rebuild a kernel now (again, when its last rebuild failed); a URL must lie under a configured source", cobra.ExactArgs(1),
		func(cfg *config.Config, args []string) error {
			_, _, err := rebuildPlan(cfg, args[0])
			return err
		},
		func(cmd *cobra.Command, cfg *config.Config, c client.Client, args []string) error {
			plan, want, err := rebuildPlan(cfg, args[0])
			if err != nil {
				return err
			}
			return a.startRebuild(cmd, cfg, c, plan, want)
		})
}

// rebuildPlan reads rebuild's argument (see rebuildTarget) and returns the
// plan of the stream the kernel belongs to; its errors are bad input.
func rebuildPlan(cfg *config.Config, arg string) (workflows.Plan, kernelnvr.NVR, error) {
	nvr, fromSource, err := rebuildTarget(cfg, arg)
	if err != nil {
		return workflows.Plan{}, kernelnvr.NVR{}, badInput(err)
	}
	want, err := kernelnvr.Parse(nvr)
	if err != nil {
		return workflows.Plan{}, kernelnvr.NVR{}, badInput(err)
	}
	st, ok := streamOf(cfg, want)
	if !ok {
		return workflows.Plan{}, kernelnvr.NVR{}, badInput(fmt.Errorf("%s belongs to no configured stream", want))
	}
	plan := workflows.PlanFor(cfg, st)
	if fromSource != "" {
		plan.Source = fromSource
	}
	return plan, want, nil
}

// streamOf returns the first configured stream whose rule (the one the
// watch applies) tracks the kernel.
func streamOf(cfg *config.Config, kernel kernelnvr.NVR) (config.Stream, bool) {
	for _, st := range cfg.Streams {
		if kernelnvr.StreamRule(st).Match(kernel) {
			return st, true
		}
	}
	return config.Stream{}, false
}

// rebuildTarget reads rebuild's argument: an NVR (with or without
// ".src.rpm"), or the URL of an SRPM under a configured source, whose name
// it returns with the NVR.
func rebuildTarget(cfg *config.Config, arg string) (nvr, sourceName string, err error) {
	if !strings.Contains(arg, "://") {
		return strings.TrimSuffix(arg, ".src.rpm"), "", nil
	}
	for _, s := range cfg.Sources {
		base := strings.TrimSuffix(s.URL, "/") + "/"
		if rest, ok := strings.CutPrefix(arg, base); ok && rest != "" {
			return strings.TrimSuffix(path.Base(rest), ".src.rpm"), s.Name, nil
		}
	}
	return "", "", fmt.Errorf("%s lies under no configured source: add its repository as a source so it is verified like any other", arg)
}

// startRebuild finds the kernel's SRPM at the plan's source and starts its rebuild.
func (a *app) startRebuild(cmd *cobra.Command, cfg *config.Config, c client.Client, plan workflows.Plan, want kernelnvr.NVR) error {
	ctx := cmd.Context()
	srcCfg, ok := cfg.Source(plan.Source)
	if !ok {
		return badInput(fmt.Errorf("stream %s: no source %q", plan.Stream, plan.Source))
	}
	src, err := source.New(ctx, srcCfg, source.Options{S3: cfg.S3})
	if err != nil {
		return err
	}
	pkgs, err := src.List(ctx)
	if err != nil {
		return fmt.Errorf("list %s: %w", srcCfg.Name, err)
	}
	for _, p := range pkgs {
		if p.IsSource() && p.NEVRA.Name == want.Name && p.NEVRA.Version == want.Version && p.NEVRA.Release == want.Release {
			run, err := workflows.StartRebuild(ctx, c, plan, activities.FromSource(p))
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "started %s (run %s)\n", run.GetID(), run.GetRunID())
			return nil
		}
	}
	return badInput(fmt.Errorf("source %s does not offer %s.src.rpm", srcCfg.Name, want))
}
