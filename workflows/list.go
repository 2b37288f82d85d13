package workflows

import (
	"context"
	"fmt"
	"strings"
	"time"

	commonpb "go.temporal.io/api/common/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
)

// RebuildSummary is one kernel rebuild as the visibility store lists it.
type RebuildSummary struct {
	KernelNVR   string
	Stage       string
	Broken      bool
	KmodsFailed int64
	// Status is Temporal's execution status: Running, Completed, Failed, ...
	Status string
	Start  time.Time
}

// ListRebuilds returns the newest kernel rebuilds, up to limit, found by
// their search attributes.
func ListRebuilds(ctx context.Context, c client.Client, limit int) ([]RebuildSummary, error) {
	resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:    "WorkflowType = 'KernelRebuild'",
		PageSize: int32(limit),
	})
	if err != nil {
		return nil, fmt.Errorf("list kernel rebuilds: %w", err)
	}
	out := make([]RebuildSummary, 0, len(resp.Executions))
	for _, e := range resp.Executions {
		f := e.GetSearchAttributes().GetIndexedFields()
		s := RebuildSummary{Status: statusName(e.GetStatus().String()), Start: e.GetStartTime().AsTime()}
		decode(f["KernelNVR"], &s.KernelNVR)
		decode(f["KabiStage"], &s.Stage)
		decode(f["KabiBroken"], &s.Broken)
		decode(f["KmodsFailed"], &s.KmodsFailed)
		out = append(out, s)
	}
	return out, nil
}

// decode reads a search attribute's value; a missing one leaves v as it is.
func decode(p *commonpb.Payload, v any) {
	if p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, v)
	}
}

// statusName turns WORKFLOW_EXECUTION_STATUS_RUNNING into Running.
func statusName(s string) string {
	const prefix = "WORKFLOW_EXECUTION_STATUS_"
	if len(s) > len(prefix) && s[:len(prefix)] == prefix {
		s = s[len(prefix):]
		return s[:1] + strings.ToLower(s[1:])
	}
	return s
}
