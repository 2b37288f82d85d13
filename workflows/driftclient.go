package workflows

import (
	"context"
	"errors"
	"fmt"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/pipeline"
)

// GetDriftStatus returns the status of a reference kernel's drift check,
// looked up under every configured stream that has references (a kernel
// named by version-release, "6.1.0-57.el8", or "kernel-core-…").
func GetDriftStatus(ctx context.Context, c client.Client, cfg *config.Config, nvr string) (DriftStatus, error) {
	vr := KernelID(nvr)[len("kernel/"):]
	if len(vr) > len(referenceCore)+1 && vr[:len(referenceCore)+1] == referenceCore+"-" {
		vr = vr[len(referenceCore)+1:]
	}
	var tried []string
	for _, s := range cfg.Streams {
		if len(s.References) == 0 {
			continue
		}
		id := pipeline.DriftID(s.Name, vr)
		tried = append(tried, id)
		v, err := c.QueryWorkflow(ctx, id, "", pipeline.StatusQuery)
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			continue
		}
		var st DriftStatus
		if err == nil {
			err = v.Get(&st)
		}
		if err != nil {
			return DriftStatus{}, fmt.Errorf("drift status of %s: %w", id, err)
		}
		return st, nil
	}
	if len(tried) == 0 {
		return DriftStatus{}, fmt.Errorf("drift of %s: no stream has references configured (streams[].references)", nvr)
	}
	return DriftStatus{}, fmt.Errorf("drift of %s: no drift check %v has run", nvr, tried)
}

// DriftSummaryLine is one drift check as the visibility store lists it.
type DriftSummaryLine struct {
	ID          string
	KernelNVR   string
	KmodsFailed int64
	// Status is Temporal's execution status: Running, Completed, Failed, ...
	Status string
}

// ListDrifts returns the newest drift checks, up to limit.
func ListDrifts(ctx context.Context, c client.Client, limit int) ([]DriftSummaryLine, error) {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query: "WorkflowType = '" + pipeline.KabiDriftWorkflow + "'", PageSize: int32(limit)})
	if err != nil {
		return nil, fmt.Errorf("list drift checks: %w", err)
	}
	out := make([]DriftSummaryLine, 0, len(resp.Executions))
	for _, e := range resp.Executions {
		f := e.GetSearchAttributes().GetIndexedFields()
		s := DriftSummaryLine{ID: e.GetExecution().GetWorkflowId(), Status: statusName(e.GetStatus().String())}
		decode(f[pipeline.KernelNVRAttribute], &s.KernelNVR)
		decode(f[pipeline.KmodsFailedAttribute], &s.KmodsFailed)
		out = append(out, s)
	}
	return out, nil
}
