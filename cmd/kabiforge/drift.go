package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/repo/store"
	"github.com/kabiforge/kabiforge/workflows"
)

// driftCommand shows reference kernels' drift checks.
func (a *app) driftCommand() *cobra.Command {
	var asJSON bool
	cmd := a.pipelineCommand("drift [NVR]", "List reference kernels' drift checks, or show which published kmods one breaks (--json: the whole report)", cobra.MaximumNArgs(1),
		func(cmd *cobra.Command, cfg *config.Config, c client.Client, args []string) error {
			out := cmd.OutOrStdout()
			if len(args) == 0 {
				return listDrifts(cmd.Context(), out, c, asJSON)
			}
			st, err := workflows.GetDriftStatus(cmd.Context(), c, cfg, args[0])
			if err != nil {
				return err
			}
			if asJSON {
				return printReport(cmd.Context(), out, cfg, st)
			}
			printDrift(out, st)
			return nil
		})
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the drift report (as stored in the repository) as JSON")
	return cmd
}

func listDrifts(ctx context.Context, out io.Writer, c client.Client, asJSON bool) error {
	list, err := workflows.ListDrifts(ctx, c, 20)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(out, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(out, "no drift checks yet")
	}
	for _, d := range list {
		fmt.Fprintf(out, "%-40s %-10s %d broken\n", d.ID, d.Status, d.KmodsFailed)
	}
	return nil
}

// printDrift writes a drift check's status for people.
func printDrift(out io.Writer, st workflows.DriftStatus) {
	fmt.Fprintf(out, "reference kernel %s (stream %s): %s; %d broken, %d unknown\n", st.KernelNVR, st.Stream, st.Step, st.Broken, st.Unknown)
	for _, p := range st.Problems {
		fmt.Fprintf(out, "  problem: %s\n", p)
	}
	for _, k := range st.Kmods {
		fmt.Fprintf(out, "  kmod %s (%s): %s", k.Name, k.Arch, k.State)
		switch {
		case k.Problem != "":
			fmt.Fprintf(out, " (%s)", k.Problem)
		case len(k.Breaks) > 0:
			fmt.Fprintf(out, ": %s", strings.Join(k.Breaks, ", "))
		}
		fmt.Fprintln(out)
	}
	if st.Publish != nil {
		fmt.Fprintf(out, "report: %s in repository %s\n", st.ReportKey, st.Repository)
	}
	if st.Reason != "" {
		fmt.Fprintf(out, "failed: %s\n", st.Reason)
	}
}

// printReport copies the drift report from the artifact store, checking
// its digest against the one the workflow recorded.
func printReport(ctx context.Context, out io.Writer, cfg *config.Config, st workflows.DriftStatus) error {
	if st.Report == nil {
		return fmt.Errorf("drift of %s: no report yet (%s)", st.KernelNVR, st.Step)
	}
	art, err := store.Open(ctx, cfg.S3.URL(cfg.Stores.Artifacts))
	if err != nil {
		return fmt.Errorf("artifact store: %w", err)
	}
	r, _, err := art.Get(ctx, st.Report.Key)
	if err != nil {
		return fmt.Errorf("drift report %s: %w", st.Report.Key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("drift report %s: %w", st.Report.Key, err)
	}
	if h := sha256.Sum256(data); hex.EncodeToString(h[:]) != st.Report.SHA256 {
		return fmt.Errorf("drift report %s: sha256 %x, the workflow recorded %s", st.Report.Key, h, st.Report.SHA256)
	}
	_, err = out.Write(data)
	return err
}
