package activities

import (
	"context"
	"path/filepath"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/pipeline"
)

// Progress is the heartbeat detail of a running build.
type Progress struct {
	LogBytes int64  `json:"log_bytes"`
	LogLines int64  `json:"log_lines"`
	LastLine string `json:"last_line"`
}

// Build runs one package build through the configured builder: it fetches
// the SRPM (and the packages BuildRequires resolve from) out of the artifact
// store, retargets a kmod when asked, builds, and stores the packages and
// logs. It heartbeats its log progress and stops the build when cancelled.
func (a *Activities) Build(ctx context.Context, in pipeline.BuildInput) (pipeline.BuildOutput, error) {
	dir, done, err := a.tempDir("build")
	if err != nil {
		return pipeline.BuildOutput{}, err
	}
	defer done()
	srcDir, depDir, resDir := filepath.Join(dir, "src"), filepath.Join(dir, "deps"), filepath.Join(dir, "result")
	for _, d := range []string{srcDir, depDir} {
		if err := mkdir(d); err != nil {
			return pipeline.BuildOutput{}, err
		}
	}
	srpm, err := getFile(ctx, a.Artifacts, in.SRPM, srcDir)
	if err != nil {
		return pipeline.BuildOutput{}, err
	}
	if _, err := getFiles(ctx, a.Artifacts, in.Deps, depDir); err != nil {
		return pipeline.BuildOutput{}, err
	}
	req := build.Request{SRPM: srpm, Arch: in.Arch, ResultDir: resDir}
	if a.Templates != nil {
		if t, ok := a.Templates(in.Stream, in.Arch); ok {
			req.Template = t
		}
	}
	if len(in.Deps) > 0 {
		req.Repos = []build.Repo{{Name: "deps", URL: "file://" + depDir}}
	}
	if req.ModuleSigning, err = a.moduleSigning(); err != nil {
		return pipeline.BuildOutput{}, err
	}
	if in.RetargetKernel != "" {
		re, err := build.Retarget(ctx, build.RetargetRequest{SRPM: srpm, KernelNVR: in.RetargetKernel, Dir: filepath.Join(dir, "retarget")})
		if err != nil {
			return pipeline.BuildOutput{}, badInputOr("retarget "+in.SRPM.Name, err)
		}
		req.SRPM, req.Macros = re.SRPM, re.Macros
	}

	hb := newHeartbeater(ctx)
	req.OnLog = hb.line
	stop := hb.run()
	started := time.Now()
	res, err := a.Builder.Build(ctx, req)
	stop()
	if err != nil {
		err = classify("build "+in.Label+" for "+in.Arch, err)
	}
	if a.Metrics != nil {
		a.Metrics.BuildDone(in.Arch, buildOutcome(err), time.Since(started))
	}
	if err != nil {
		return pipeline.BuildOutput{}, err
	}
	out := pipeline.BuildOutput{Host: a.host(), Builder: a.BuilderName, Duration: res.Duration}
	for _, p := range res.RPMs {
		art, err := putFile(ctx, a.Artifacts, KindRPM, p)
		if err != nil {
			return pipeline.BuildOutput{}, err
		}
		out.RPMs = append(out.RPMs, art)
	}
	if res.SRPM != "" {
		if out.SRPM, err = putFile(ctx, a.Artifacts, KindSRPM, res.SRPM); err != nil {
			return pipeline.BuildOutput{}, err
		}
	}
	for _, p := range res.Logs {
		art, err := putFile(ctx, a.Artifacts, KindLog, p)
		if err != nil {
			return pipeline.BuildOutput{}, err
		}
		out.Logs = append(out.Logs, art)
	}
	return out, nil
}

// heartbeater records log progress and heartbeats it periodically.
type heartbeater struct {
	ctx   context.Context
	mu    sync.Mutex
	p     Progress
	every time.Duration
}

func newHeartbeater(ctx context.Context) *heartbeater {
	every := 10 * time.Second
	if activity.IsActivity(ctx) {
		if t := activity.GetInfo(ctx).HeartbeatTimeout; t > 0 && t/4 < every {
			every = t / 4
		}
	}
	return &heartbeater{ctx: ctx, every: every}
}

func (h *heartbeater) line(l string) {
	h.mu.Lock()
	h.p.LogBytes += int64(len(l)) + 1
	h.p.LogLines++
	if len(l) > 200 {
		l = l[:200]
	}
	h.p.LastLine = l
	h.mu.Unlock()
}

func (h *heartbeater) beat() {
	if !activity.IsActivity(h.ctx) {
		return
	}
	h.mu.Lock()
	p := h.p
	h.mu.Unlock()
	activity.RecordHeartbeat(h.ctx, p)
}

// run heartbeats until the returned stop is called.
func (h *heartbeater) run() (stop func()) {
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(h.every)
		defer t.Stop()
		for {
			select {
			case <-quit:
				h.beat() // the final progress
				return
			case <-h.ctx.Done():
				return
			case <-t.C:
				h.beat()
			}
		}
	}()
	return func() { close(quit); wg.Wait() }
}

// moduleSigning is what signs modules and kernel images in this worker's
// builds; nil when it has no module-signing key or no signer command.
func (a *Activities) moduleSigning() (*build.ModuleSigning, error) {
	if a.ModuleKey == nil || len(a.ModuleSignCommand) == 0 {
		return nil, nil
	}
	key, err := a.ModuleKey.PrivatePEM()
	if err != nil {
		return nil, infra("module signing", err)
	}
	return &build.ModuleSigning{Key: key, Cert: a.ModuleKey.CertificateDER(), Command: a.ModuleSignCommand}, nil
}
