package activities

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/repo/publish"
)

// Names the RepoPublish workflow and its signals are registered under. The
// activities package names them so RequestPublish can signal-with-start
// without importing the workflows package.
const (
	RepoPublishWorkflow = "RepoPublish"
	PublishSignal       = "publish"
	PublishedSignal     = "published"
)

// RepoPublishID is the workflow ID of a repository's RepoPublish.
func RepoPublishID(repo string) string { return "repo/" + repo }

// Sign signs copies of the packages with the worker's key and stores them.
// The key never leaves the worker: only its ID is returned.
func (a *Activities) Sign(ctx context.Context, in SignInput) (SignOutput, error) {
	if a.Signer == nil {
		return SignOutput{}, badInput(errNoSigner)
	}
	dir, done, err := a.tempDir("sign")
	if err != nil {
		return SignOutput{}, err
	}
	defer done()
	out := SignOutput{KeyID: a.Signer.Key().KeyID()}
	for i, art := range in.RPMs {
		sub := filepath.Join(dir, fmt.Sprint(i))
		if err := mkdir(sub); err != nil {
			return SignOutput{}, err
		}
		src, err := getFile(ctx, a.Artifacts, art, sub)
		if err != nil {
			return SignOutput{}, err
		}
		dst := filepath.Join(sub, "signed", art.Name)
		if err := mkdir(filepath.Dir(dst)); err != nil {
			return SignOutput{}, err
		}
		if err := a.Signer.SignRPMTo(src, dst); err != nil {
			return SignOutput{}, badInput(err)
		}
		signed, err := putFile(ctx, a.Artifacts, KindSigned, dst)
		if err != nil {
			return SignOutput{}, err
		}
		out.RPMs = append(out.RPMs, signed)
	}
	return out, nil
}

// Publish applies one request to its repository through repo/publish (the
// atomic protocol with retention) and writes each package's provenance
// record beside the repository. Publishing the same request twice changes
// nothing the second time.
func (a *Activities) Publish(ctx context.Context, req PublishRequest) (PublishResult, error) {
	repo, err := a.repository(req.Repository)
	if err != nil {
		return PublishResult{}, err
	}
	if a.Signer == nil {
		return PublishResult{}, badInput(errNoSigner)
	}
	dir, done, err := a.tempDir("publish")
	if err != nil {
		return PublishResult{}, err
	}
	defer done()
	paths, err := getFiles(ctx, a.Artifacts, req.Add, dir)
	if err != nil {
		return PublishResult{}, err
	}
	p, err := publish.New(repo.Store, publish.Config{Name: req.Repository, BaseURL: repo.BaseURL, Signer: a.Signer,
		Retention: repo.Retention, Window: repo.Window, TempDir: dir})
	if err != nil {
		return PublishResult{}, badInput(err)
	}
	stop := newHeartbeater(ctx).run()
	started := time.Now()
	res, err := p.Publish(ctx, publish.ChangeSet{Add: paths})
	stop()
	if a.Metrics != nil {
		a.Metrics.PublishDone(req.Repository, err == nil, time.Since(started))
	}
	if err != nil {
		return PublishResult{}, classify("publish to "+req.Repository, err)
	}
	for _, pr := range req.Provenance {
		if err := writeProvenance(ctx, repo.Store, pr); err != nil {
			return PublishResult{}, err
		}
	}
	return PublishResult{ID: req.ID, Committed: res.Committed, Revision: res.Revision, Packages: res.Packages}, nil
}

// RequestPublish hands a request to the repository's RepoPublish workflow,
// starting it when it is not running (signal-with-start).
func (a *Activities) RequestPublish(ctx context.Context, req PublishRequest) error {
	if a.Client == nil {
		return badInput(fmt.Errorf("this worker has no Temporal client for publish requests"))
	}
	st := a.PublishOptions
	st.Repository = req.Repository
	_, err := a.Client.SignalWithStartWorkflow(ctx, RepoPublishID(req.Repository), PublishSignal, req,
		client.StartWorkflowOptions{TaskQueue: a.ControlQueue, WorkflowTaskTimeout: 10 * time.Second},
		RepoPublishWorkflow, st)
	if err != nil {
		return infra("signal "+RepoPublishID(req.Repository), err)
	}
	return nil
}

// RepoPublishState is RepoPublish's input, carried over continue-as-new.
type RepoPublishState struct {
	Repository string `json:"repository"`
	// Pending are requests received but not yet applied.
	Pending []PublishRequest `json:"pending,omitempty"`
	// Done are the IDs of recently applied requests, newest last, so a
	// request sent twice is applied once.
	Done []PublishResult `json:"done,omitempty"`
	// RequestsPerRun and Idle tune the workflow; zero takes its defaults.
	RequestsPerRun int           `json:"requests_per_run,omitempty"`
	Idle           time.Duration `json:"idle,omitempty"`
	// HeartbeatTimeout is the Publish activity's; zero means 2m. A worker
	// that dies mid-publish is noticed after it and the publish retried.
	HeartbeatTimeout time.Duration `json:"heartbeat_timeout,omitempty"`
}
