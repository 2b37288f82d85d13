package activities

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/publish"
)

// Sign signs copies of the packages with the worker's key and stores them.
// The key never leaves the worker: only its ID is returned.
func (a *Activities) Sign(ctx context.Context, in pipeline.SignInput) (pipeline.SignOutput, error) {
	if a.Signer == nil {
		return pipeline.SignOutput{}, badInput(errNoSigner)
	}
	dir, done, err := a.tempDir("sign")
	if err != nil {
		return pipeline.SignOutput{}, err
	}
	defer done()
	out := pipeline.SignOutput{KeyID: a.Signer.Key().KeyID()}
	for i, art := range in.RPMs {
		sub := filepath.Join(dir, fmt.Sprint(i))
		if err := mkdir(sub); err != nil {
			return pipeline.SignOutput{}, err
		}
		src, err := getFile(ctx, a.Artifacts, art, sub)
		if err != nil {
			return pipeline.SignOutput{}, err
		}
		dst := filepath.Join(sub, "signed", art.Name)
		if err := mkdir(filepath.Dir(dst)); err != nil {
			return pipeline.SignOutput{}, err
		}
		if err := a.Signer.SignRPMTo(src, dst); err != nil {
			return pipeline.SignOutput{}, badInput(err)
		}
		signed, err := putFile(ctx, a.Artifacts, KindSigned, dst)
		if err != nil {
			return pipeline.SignOutput{}, err
		}
		out.RPMs = append(out.RPMs, signed)
	}
	return out, nil
}

// Publish applies one request to its repository through repo/publish (the
// atomic protocol with retention) and writes each package's provenance
// record beside the repository. Publishing the same request twice changes
// nothing the second time.
func (a *Activities) Publish(ctx context.Context, req pipeline.PublishRequest) (pipeline.PublishResult, error) {
	repo, err := a.repository(req.Repository)
	if err != nil {
		return pipeline.PublishResult{}, err
	}
	if a.Signer == nil {
		return pipeline.PublishResult{}, badInput(errNoSigner)
	}
	dir, done, err := a.tempDir("publish")
	if err != nil {
		return pipeline.PublishResult{}, err
	}
	defer done()
	paths, err := getFiles(ctx, a.Artifacts, req.Add, dir)
	if err != nil {
		return pipeline.PublishResult{}, err
	}
	if err := a.storeDriftReports(ctx, repo, req.Drift); err != nil {
		return pipeline.PublishResult{}, err
	}
	if err := a.storeOutcome(ctx, repo, req.Kernel); err != nil {
		return pipeline.PublishResult{}, err
	}
	cfg := publish.Config{Name: req.Repository, BaseURL: repo.BaseURL, Signer: a.Signer,
		ReleasePackage: repo.BaseURL != "", Retention: repo.Retention, Window: repo.Window, TempDir: dir}
	if a.ModuleKey != nil {
		cfg.ModuleCert = a.ModuleKey.CertificateDER()
	}
	cfg.Pages = a.pageFunc(repo, req.Repository, req.Provenance, cfg.ModuleCert != nil)
	p, err := publish.New(repo.Store, cfg)
	if err != nil {
		return pipeline.PublishResult{}, badInput(err)
	}
	stop := newHeartbeater(ctx).run()
	started := time.Now()
	res, err := p.Publish(ctx, publish.ChangeSet{Add: paths})
	stop()
	if a.Metrics != nil {
		a.Metrics.PublishDone(req.Repository, err == nil, time.Since(started))
	}
	if err != nil {
		return pipeline.PublishResult{}, classify("publish to "+req.Repository, err)
	}
	if err := provenance.Write(ctx, repo.Store, req.Provenance...); err != nil {
		return pipeline.PublishResult{}, err
	}
	return pipeline.PublishResult{ID: req.ID, Committed: res.Committed, Revision: res.Revision, Packages: res.Packages}, nil
}

// RequestPublish hands a request to the repository's RepoPublish workflow,
// starting it when it is not running (signal-with-start).
func (a *Activities) RequestPublish(ctx context.Context, req pipeline.PublishRequest) error {
	if a.Client == nil {
		return badInput(fmt.Errorf("this worker has no Temporal client for publish requests"))
	}
	st := a.PublishOptions
	st.Repository = req.Repository
	_, err := a.Client.SignalWithStartWorkflow(ctx, pipeline.RepoPublishID(req.Repository), pipeline.PublishSignal, req,
		client.StartWorkflowOptions{TaskQueue: a.ControlQueue, WorkflowTaskTimeout: 10 * time.Second},
		pipeline.RepoPublishWorkflow, st)
	if err != nil {
		return infra("signal "+pipeline.RepoPublishID(req.Repository), err)
	}
	return nil
}

// storeDriftReports copies drift reports from the artifact store into the
// repository (drift/<nvr>.json), checking their digests.
func (a *Activities) storeDriftReports(ctx context.Context, repo Repository, reports []pipeline.DriftReport) error {
	for _, d := range reports {
		data, err := getBytes(ctx, a.Artifacts, d.Report)
		if err != nil {
			return err
		}
		if err := putKey(ctx, repo.Store, pipeline.DriftReportKey(d.KernelNVR), data); err != nil {
			return err
		}
	}
	return nil
}
