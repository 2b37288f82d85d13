package workflows

import (
	"fmt"
	"slices"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// DriftInput is KabiDrift's input: a reference kernel (its kernel-core
// packages per arch, as the source listed them) and the stream whose
// published kmods it is checked against.
type DriftInput struct {
	// KernelNVR is the reference kernel's version-release.
	KernelNVR string `json:"kernel_nvr"`
	// Source lists the reference kernels.
	Source string `json:"source"`
	// Packages are the reference kernel's packages, at most one per arch.
	Packages []pipeline.SourcePackage `json:"packages"`
	// Problems are what the watch found wrong before any arch.
	Problems []string `json:"problems,omitempty"`
	// Plan is the stream's: repository, arches, kmods, kABI policy.
	Plan Plan `json:"plan"`
}

// DriftStatus is what KabiDrift's status query (and result) says.
type DriftStatus struct {
	KernelNVR string `json:"kernel_nvr"`
	Stream    string `json:"stream"`
	// Stage is always drift (the KabiStage search attribute).
	Stage pipeline.Stage `json:"stage"`
	// Step is fetching, checking, publishing, done or failed.
	Step string `json:"step"`
	// Broken and Unknown count kmod builds over all arches.
	Broken  int                  `json:"broken"`
	Unknown int                  `json:"unknown"`
	Kmods   []pipeline.DriftKmod `json:"kmods,omitempty"`
	// Problems are what could not be read, named.
	Problems []string `json:"problems,omitempty"`
	// Report is the full report in the artifact store; ReportKey where the
	// publish stored it in the repository.
	Report     *pipeline.Artifact      `json:"report,omitempty"`
	Repository string                  `json:"repository"`
	ReportKey  string                  `json:"report_key"`
	Publish    *pipeline.PublishResult `json:"publish,omitempty"`
	Reason     string                  `json:"reason,omitempty"`
}

// Steps of a KabiDrift.
const (
	DriftFetching   = "fetching"
	DriftChecking   = "checking"
	DriftPublishing = "publishing"
	DriftDone       = "done"
	DriftFailed     = "failed"
)

// KabiDrift checks a reference kernel (watched, never rebuilt) against
// every kmod published for its stream, symbol by symbol, and stores the
// report in the repository (drift/<nvr>.json) through RepoPublish. A
// package that cannot be fetched or read is a report entry naming the
// problem; nothing is built or published for the kernel itself.
func KabiDrift(ctx workflow.Context, in DriftInput) (DriftStatus, error) {
	st := DriftStatus{KernelNVR: in.KernelNVR, Stream: in.Plan.Stream, Stage: pipeline.StageDrift, Step: DriftFetching,
		Problems: slices.Clone(in.Problems), Repository: in.Plan.Repository, ReportKey: pipeline.DriftReportKey(in.KernelNVR)}
	if err := workflow.SetQueryHandler(ctx, pipeline.StatusQuery, func() (DriftStatus, error) { return st, nil }); err != nil {
		return st, err
	}
	upsertDrift(ctx, &st)
	err := runDrift(ctx, in, &st)
	if err != nil {
		st.Step, st.Reason = DriftFailed, reason(err)
		return st, err
	}
	st.Step = DriftDone
	return st, nil
}

func runDrift(ctx workflow.Context, in DriftInput, st *DriftStatus) error {
	var a *activities.Activities
	lctx := lightCtx(ctx, in.Plan.Timeouts, in.Plan.ControlQueue)
	check := pipeline.DriftCheckInput{Stream: in.Plan.Stream, KernelNVR: in.KernelNVR, Repository: in.Plan.Repository,
		Kernel: map[string][]pipeline.Artifact{}, KernelProblems: map[string]string{}, Kmods: in.Plan.Kmods,
		Policy: in.Plan.KabiPolicy, Problems: in.Problems}
	for _, arch := range in.Plan.Arches {
		check.Arches = append(check.Arches, arch.Name)
		i := slices.IndexFunc(in.Packages, func(p pipeline.SourcePackage) bool { return p.Arch == arch.Name })
		if i < 0 {
			check.KernelProblems[arch.Name] = fmt.Sprintf("source %s lists no kernel-core %s for %s", in.Source, in.KernelNVR, arch.Name)
			continue
		}
		var f pipeline.Fetched
		err := workflow.ExecuteActivity(lctx, a.FetchSRPM, pipeline.FetchInput{Source: in.Source, Package: in.Packages[i]}).Get(ctx, &f)
		if err != nil {
			check.KernelProblems[arch.Name] = reason(err)
			continue
		}
		check.Kernel[arch.Name] = []pipeline.Artifact{f.Artifact}
	}
	st.Step = DriftChecking
	var sum pipeline.DriftSummary
	if err := workflow.ExecuteActivity(lctx, a.DriftCheck, check).Get(ctx, &sum); err != nil {
		return err
	}
	st.Broken, st.Unknown, st.Kmods, st.Problems, st.Report = sum.Broken, sum.Unknown, sum.Kmods, sum.Problems, &sum.Report
	upsertDrift(ctx, st)

	st.Step = DriftPublishing
	info := workflow.GetInfo(ctx)
	req := pipeline.PublishRequest{ID: fmt.Sprintf("%s@%d", info.WorkflowExecution.ID, info.WorkflowStartTime.UnixNano()),
		Repository: in.Plan.Repository, Requester: info.WorkflowExecution.ID, Add: []pipeline.Artifact{},
		Drift: []pipeline.DriftReport{{KernelNVR: in.KernelNVR, Report: sum.Report}}}
	res, err := requestPublish(ctx, lctx, req)
	st.Publish = &res
	return err
}

// upsertDrift keeps the search attributes current: KernelNVR, KabiStage
// drift, KmodsFailed the broken count.
func upsertDrift(ctx workflow.Context, st *DriftStatus) {
	err := workflow.UpsertTypedSearchAttributes(ctx, KernelNVRKey.ValueSet(st.KernelNVR),
		KabiStageKey.ValueSet(string(pipeline.StageDrift)), KmodsFailedKey.ValueSet(int64(st.Broken)))
	if err != nil {
		workflow.GetLogger(ctx).Warn("upsert search attributes", "error", err)
	}
}

// requestPublish hands req to the repository's RepoPublish and waits for
// its answer, signalled back to this workflow.
func requestPublish(ctx, lctx workflow.Context, req pipeline.PublishRequest) (pipeline.PublishResult, error) {
	var a *activities.Activities
	published := workflow.GetSignalChannel(ctx, pipeline.PublishedSignal)
	if err := workflow.ExecuteActivity(lctx, a.RequestPublish, req).Get(ctx, nil); err != nil {
		return pipeline.PublishResult{}, err
	}
	var res pipeline.PublishResult
	for res.ID != req.ID {
		published.Receive(ctx, &res)
	}
	if res.Error != "" {
		return res, fmt.Errorf("publish to %s: %s", req.Repository, res.Error)
	}
	return res, nil
}
