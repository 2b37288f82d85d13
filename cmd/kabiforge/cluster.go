package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/types/known/durationpb"

	"github.com/kabiforge/kabiforge/internal/searchattr"
)

// clusterCommand groups what an operator runs once against a real cluster.
func (a *app) clusterCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cluster",
		Short: "Prepare a Temporal cluster for kabiforge",
	}
	cmd.AddCommand(a.clusterSetupCommand())
	return cmd
}

// clusterSetupCommand registers the configured namespace (when missing) and
// kabiforge's search attributes in it, through the operator service.
func (a *app) clusterSetupCommand() *cobra.Command {
	var file string
	var retention, wait time.Duration
	cmd := &cobra.Command{
		Use:   "setup",
		Short: "Register the namespace (if missing) and kabiforge's search attributes; idempotent",
		Long: "Register temporal.namespace on the configured cluster when it does not exist, then\n" +
			"add the search attributes kabiforge's workflows set (KernelNVR, KabiStage, KabiBroken,\n" +
			"KmodsFailed) through the operator service. Running it again changes nothing; an\n" +
			"attribute that exists with another type is an error.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := a.loadConfig(file)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), wait)
			defer cancel()
			c, err := a.dialTemporal(ctx, cfg)
			if err != nil {
				return err
			}
			defer c.Close()
			ns := cfg.Temporal.Namespace
			created, err := ensureNamespace(ctx, c, ns, retention)
			if err != nil {
				return err
			}
			added, err := searchattr.Ensure(ctx, c.OperatorService(), ns, searchattr.Kabiforge())
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if created {
				fmt.Fprintf(out, "namespace %s registered (retention %v)\n", ns, retention)
			} else {
				fmt.Fprintf(out, "namespace %s exists\n", ns)
			}
			if len(added) == 0 {
				fmt.Fprintf(out, "search attributes: all present\n")
			} else {
				fmt.Fprintf(out, "search attributes added: %v\n", added)
			}
			return nil
		},
	}
	addConfigFlag(cmd, &file)
	cmd.Flags().DurationVar(&retention, "retention", 30*24*time.Hour, "history retention of a namespace this registers")
	cmd.Flags().DurationVar(&wait, "wait", 2*time.Minute, "how long to wait for a cluster that is still starting")
	return cmd
}

// ensureNamespace registers ns unless it exists; created reports whether it did.
func ensureNamespace(ctx context.Context, c client.Client, ns string, retention time.Duration) (created bool, err error) {
	for {
		_, err = c.WorkflowService().DescribeNamespace(ctx, &workflowservice.DescribeNamespaceRequest{Namespace: ns})
		var notFound *serviceerror.NamespaceNotFound
		if err == nil {
			return created, nil
		}
		if errors.As(err, &notFound) {
			_, err = c.WorkflowService().RegisterNamespace(ctx, &workflowservice.RegisterNamespaceRequest{
				Namespace: ns, WorkflowExecutionRetentionPeriod: durationpb.New(retention)})
			var exists *serviceerror.NamespaceAlreadyExists
			if err == nil || errors.As(err, &exists) {
				created = created || err == nil
				continue // describe again: the frontend knows it once its cache refreshes
			}
		}
		var unavailable *serviceerror.Unavailable
		if !errors.As(err, &unavailable) && !errors.As(err, &notFound) {
			return created, fmt.Errorf("namespace %s: %w", ns, err)
		}
		select {
		case <-ctx.Done():
			return created, fmt.Errorf("namespace %s: %w (last error: %v)", ns, ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}
