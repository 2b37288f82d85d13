package workflows_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/compat"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/modsign/modsigntest"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/source"
	"github.com/kabiforge/kabiforge/repo/store"
	"github.com/kabiforge/kabiforge/workflows"
)

// EnvRecord, set to 1, rewrites testdata/history from the end-to-end run.
const EnvRecord = "KABIFORGE_RECORD_HISTORY"

const (
	kernelA    = "4.18.0-80.el8"
	kernelB    = "4.18.0-80.1.2.el8_0"
	kernelC    = "4.18.0-80.4.2.el8_0"
	kernelD    = "4.18.0-80.7.1.el8_0"
	repoName   = "kabiforge"
	passphrase = "e2e-passphrase-never-in-history"
)

// livePipeline is kabiforge running for real: a dev server, a worker on the
// control queue and one on build-x86_64, the rpmbuild builder, dir stores.
type livePipeline struct {
	t        *testing.T
	c        client.Client
	upstream string
	repoDir  string
	version  string // the kernel version the watch tracks
	plan     workflows.Plan
	keyArmor string
	// modKey signs kmod modules in the builds; modKeyPEM is its private key.
	modKey    *modsign.Key
	modKeyPEM []byte
	// tamper, when set, is the builder, armed to tamper with a kmod build.
	tamper *tamperingBuilder
}

// pipelineSetup is what differs between the end-to-end tests' pipelines.
type pipelineSetup struct {
	builder build.Builder
	name    string // the builder's name in provenance
	version string // the kernel version the watch tracks
	build   time.Duration
	// unsigned builds sign no modules and publishing verifies none (the
	// offline mock buildroot has no sbsign for kernel images).
	unsigned bool
	// moduleKey, when set, is the module-signing key instead of a new one
	// (a kernel built to trust it is cached between runs).
	moduleKey *modsign.Key
	// boot gives the workers a boot environment (the boot gate's BootTest).
	boot bool
}

// startPipeline starts the pipeline on the synthetic demo kernels and kmods.
func startPipeline(t *testing.T) *livePipeline {
	p := newPipeline(t, pipelineSetup{builder: &build.Rpmbuild{}, name: "rpmbuild", version: "4.18.0", build: 10 * time.Minute})
	for _, k := range demo.Kmods(kernelA) {
		p.plan.Kmods = append(p.plan.Kmods, pipeline.KmodSpec{Name: k.Name, Package: "kmod-" + k.Name, Source: "upstream"})
		if _, err := demo.KmodSRPM(p.upstream, k); err != nil {
			t.Fatal(err)
		}
	}
	return p
}

// newPipeline starts a pipeline with no kmods configured.
func newPipeline(t *testing.T, setup pipelineSetup) *livePipeline {
	testutil.RequireTool(t, "rpmbuild")
	testutil.RequireTool(t, "dnf")
	srv := devtest.Start(t, devtest.Options{Headless: true})
	c, err := client.Dial(client.Options{HostPort: srv.Frontend, Namespace: srv.Namespace, Logger: log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil)))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	root := t.TempDir()
	p := &livePipeline{t: t, c: c, upstream: filepath.Join(root, "upstream"), repoDir: filepath.Join(root, "repo"), version: setup.version}
	art, err := store.OpenDir(filepath.Join(root, "artifacts"))
	if err != nil {
		t.Fatal(err)
	}
	up, err := store.OpenDir(p.upstream)
	if err != nil {
		t.Fatal(err)
	}
	repo, err := store.OpenDir(p.repoDir)
	if err != nil {
		t.Fatal(err)
	}
	signer := p.signer(root)
	queue := "kabiforge-e2e"
	acts := &activities.Activities{Artifacts: art,
		Sources:      map[string]activities.Source{"upstream": {Source: source.FromStore(up), Fetch: source.FetchOptions{Unsigned: true}}},
		Repositories: map[string]activities.Repository{repoName: {Store: repo, BaseURL: "file://" + p.repoDir + "/", Retention: publish.Retention{Kernels: 3}}},
		Builder:      setup.builder, BuilderName: setup.name, ConfigHash: "e2e", Signer: signer, Client: c,
		ControlQueue: queue, WorkDir: t.TempDir(), Host: "e2e-host",
		ModuleKey: p.moduleKey(), ModuleSignCommand: modsigntest.Command()}
	if setup.unsigned {
		acts.ModuleKey = nil
	}
	if setup.moduleKey != nil {
		acts.ModuleKey = p.useModuleKey(setup.moduleKey)
	}
	if setup.boot {
		acts.Boot = &activities.BootEnv{}
	}
	for _, q := range []string{queue, "build-x86_64-e2e"} {
		w := worker.New(c, q, worker.Options{})
		if q == queue {
			workflows.Register(w)
		}
		activities.Register(w, acts)
		if err := w.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(w.Stop)
	}
	p.plan = workflows.Plan{Source: "upstream", Stream: "el8", Arches: []workflows.Arch{{Name: "x86_64", Queue: "build-x86_64-e2e"}},
		Repository: repoName, RepoURL: "file://" + p.repoDir + "/", ControlQueue: queue, KmodParallel: 2,
		Gate:     workflows.Gate{On: []pipeline.GateCondition{pipeline.GateKmodFailed, pipeline.GateStablelistChanged}},
		Timeouts: workflows.Timeouts{Build: setup.build, Heartbeat: 30 * time.Second, Activity: 5 * time.Minute}, ConfigHash: "e2e"}
	return p
}

// useModuleKey makes key the module-signing key the pipeline's builds sign
// with, in place of the one moduleKey generated.
func (p *livePipeline) useModuleKey(key *modsign.Key) *modsign.Key {
	pem, err := key.PrivatePEM()
	if err != nil {
		p.t.Fatal(err)
	}
	p.modKey, p.modKeyPEM = key, pem
	return key
}

// signer writes a passphrase-protected key and loads it as a worker does.
func (p *livePipeline) signer(root string) *sign.Signer {
	key, err := sign.Generate("kabiforge e2e", "e2e@example.org", sign.RSA4096)
	if err != nil {
		p.t.Fatal(err)
	}
	var armor bytes.Buffer
	if err := key.WritePrivate(&armor, []byte(passphrase)); err != nil {
		p.t.Fatal(err)
	}
	path := filepath.Join(root, "signing.asc")
	if err := os.WriteFile(path, armor.Bytes(), 0o600); err != nil {
		p.t.Fatal(err)
	}
	p.keyArmor = armor.String()
	loaded, err := sign.LoadKey(path, []byte(passphrase))
	if err != nil {
		p.t.Fatal(err)
	}
	return sign.NewSigner(loaded)
}

func TestEndToEnd(t *testing.T) {
	p := startPipeline(t)
	a := demo.BaseKernel()

	// Kernel A: nothing published yet, so every kmod is built for it.
	p.addKernel(a)
	if res := p.watch(); !slices.Equal(res.Started, []string{"kernel/" + kernelA}) {
		t.Fatalf("first watch %+v", res)
	}
	if res := p.result(kernelA); res.Stage != pipeline.StagePublished {
		t.Fatalf("A: %+v", res)
	}
	for name, u := range p.status(kernelA).Kmods {
		if u.State != pipeline.StateRebuilt {
			t.Errorf("A: kmod %s %+v", name, u)
		}
	}

	// Kernel B breaks fragiledrv only: only it is rebuilt.
	b := demo.NextKernel(a, kernelB)
	p.addKernel(b)
	landed := time.Now()
	if res := p.watch(); !slices.Equal(res.Started, []string{"kernel/" + kernelB}) || !slices.Equal(res.Skipped, []string{"kernel/" + kernelA}) {
		t.Fatalf("second watch %+v: want B started and A skipped", res)
	}
	if res := p.result(kernelB); res.Stage != pipeline.StagePublished || len(res.Excluded) != 0 {
		t.Fatalf("B: %+v", res)
	}
	sb := p.status(kernelB)
	want := map[string]pipeline.State{demo.StableKmod: pipeline.StateCompatible, demo.FragileKmod: pipeline.StateRebuilt, demo.TunableKmod: pipeline.StateCompatible}
	for name, state := range want {
		if sb.Kmods[name].State != state {
			t.Errorf("B: kmod %s = %+v, want %s", name, sb.Kmods[name], state)
		}
	}
	if sb.Kabi.Previous != kernelA || sb.Kabi.Changed != 1 || !slices.Equal(sb.Kabi.Broken, []string{demo.FragileKmod}) {
		t.Errorf("B: kABI summary %+v", sb.Kabi)
	}
	// The page committed with B's metadata says what B's rebuild did.
	cells := p.page()
	for name, state := range map[string]compat.State{demo.StableKmod: compat.Kept, demo.FragileKmod: compat.Rebuilt, demo.TunableKmod: compat.Kept} {
		if c := cells[kernelB+"/"+name]; c.State != state {
			t.Errorf("page: B × %s = %+v, want %s", name, c, state)
		}
		if c := cells[kernelA+"/"+name]; c.State != compat.Rebuilt {
			t.Errorf("page: A × %s = %+v, want rebuilt", name, c)
		}
	}
	builds := p.listed(`WorkflowType = "PackageBuild" AND WorkflowId STARTS_WITH "build/kmod-"`, 4)
	if len(builds) != 4 || !slices.Contains(builds, "build/kmod-fragiledrv-for-"+kernelB+"/x86_64") {
		t.Errorf("kmod builds %v: want the three for A and fragiledrv for B", builds)
	}
	if ids := p.listed(fmt.Sprintf(`KernelNVR = %q AND KabiStage = "published" AND KabiBroken = true`, kernelB), 1); len(ids) != 1 {
		t.Errorf("search attributes: found %v", ids)
	}

	dnf := testutil.NewDNFRoot(t)
	dnf.AddRepo(testutil.Repo{Name: repoName, BaseURL: "file://" + p.repoDir, GPGKey: "file://" + filepath.Join(p.repoDir, publish.KeyFileKey(repoName))})
	if out, err := dnf.Run("list", "--available", "kernel-core-"+kernelB); err != nil {
		t.Fatalf("dnf does not see kernel B: %v\n%s", err, out)
	}
	total := time.Since(landed)
	building := p.activityTime("build/kernel-"+kernelB+"/x86_64", "Build") + p.activityTime("build/kmod-fragiledrv-for-"+kernelB+"/x86_64", "Build")
	t.Logf("kernel B: %v from SRPM upstream to dnf seeing it, %v of it building; overhead %v",
		total.Round(time.Millisecond), building.Round(time.Millisecond), (total - building).Round(time.Millisecond))
	if overhead, limit := total-building, testutil.LoadScaled(t, 5*time.Second); overhead > limit {
		t.Errorf("overhead %v, want under %v (5 s on an idle machine)", overhead, limit.Round(time.Millisecond))
	}
	if out, err := dnf.Install("kernel-core-"+kernelB, "kmod-"+demo.StableKmod, "kmod-"+demo.FragileKmod, "kmod-"+demo.TunableKmod); err != nil {
		t.Fatalf("dnf install: %v\n%s", err, out)
	}
	installed := strings.Join(dnf.Installed(t), "\n")
	for _, w := range []string{"kernel-core-" + kernelB + ".x86_64", "kmod-fragiledrv-2.3-3.el8.x86_64", "kmod-stabledrv-", "kmod-tunabledrv-"} {
		if !strings.Contains(installed, w) {
			t.Errorf("installed:\n%s\nlacks %s", installed, w)
		}
	}
	for _, nevra := range dnf.Installed(t) {
		if name, _, ok := strings.Cut(nevra, "-"); ok && name == "kmod" {
			kmod := strings.Split(strings.TrimPrefix(nevra, "kmod-"), "-")[0]
			got, want := sb.Kmods[kmod].Greylist, p.greylist(nevra+".rpm", kernelB)
			if got != want || (kmod == demo.FragileKmod && want == 0) {
				t.Errorf("B: kmod %s greylist %d in status, rpm and comm count %d for %s", kmod, got, want, nevra)
			}
			t.Logf("B: kmod %s uses %d greylisted symbols", kmod, got)
		}
	}
	p.checkHistory("kernel/" + kernelA)
	p.checkHistory("kernel/" + kernelB)
	p.checkHistory("build/kernel-" + kernelB + "/x86_64")

	// Kernel C drops the symbol fragiledrv needs: its rebuild fails, the
	// gate holds, reject publishes nothing.
	before := p.repomd()
	p.addKernel(withoutSymbol(b, kernelC, demo.FragileSymbol))
	p.watch()
	sc := p.waitStage(kernelC, pipeline.StageAwaitingApproval)
	if u := sc.Kmods[demo.FragileKmod]; u.State != pipeline.StateFailed || !strings.Contains(u.Reason, "undefined symbol "+demo.FragileSymbol) || len(sc.Gate) != 1 || !strings.Contains(sc.Gate[0], demo.FragileKmod) {
		t.Errorf("C at the gate: %+v", sc)
	}
	if ids := p.listed(fmt.Sprintf(`KernelNVR = %q AND KabiStage = "awaiting-approval" AND KmodsFailed = 1`, kernelC), 1); len(ids) != 1 {
		t.Errorf("C not found by its search attributes: %v", ids)
	}
	if err := workflows.Reject(context.Background(), p.c, kernelC, "fragiledrv must build"); err != nil {
		t.Fatal(err)
	}
	if res := p.result(kernelC); res.Stage != pipeline.StageRejected {
		t.Fatalf("C: %+v", res)
	}
	if !bytes.Equal(before, p.repomd()) {
		t.Error("rejected kernel C changed the repository")
	}
	p.checkHistory("kernel/" + kernelC)

	// Kernel D likewise; approve publishes it without fragiledrv.
	p.addKernel(withoutSymbol(b, kernelD, demo.FragileSymbol))
	p.watch()
	p.waitStage(kernelD, pipeline.StageAwaitingApproval)
	if err := workflows.Approve(context.Background(), p.c, kernelD, "ship it"); err != nil {
		t.Fatal(err)
	}
	res := p.result(kernelD)
	if res.Stage != pipeline.StagePublished || !slices.Equal(res.Excluded, []string{demo.FragileKmod}) {
		t.Fatalf("D: %+v", res)
	}
	repomd := string(p.repomd())
	if bytes.Equal(before, []byte(repomd)) {
		t.Error("approved kernel D did not change the repository")
	}
	if c := p.page()[kernelD+"/"+demo.FragileKmod]; c.State != compat.Excluded || !strings.Contains(c.Reason, demo.FragileSymbol) {
		t.Errorf("page: D × %s = %+v, want excluded for its missing symbol", demo.FragileKmod, c)
	}
	dnf2 := testutil.NewDNFRoot(t)
	dnf2.AddRepo(testutil.Repo{Name: repoName, BaseURL: "file://" + p.repoDir, GPGKey: "file://" + filepath.Join(p.repoDir, publish.KeyFileKey(repoName))})
	if out, err := dnf2.Install("kernel-core-"+kernelD, "kmod-"+demo.StableKmod, repoName+"-release"); err != nil {
		t.Fatalf("dnf install D: %v\n%s", err, out)
	}
	p.checkHistory("kernel/" + kernelD)
	p.checkHistory(pipeline.RepoPublishID(repoName))
	p.checkSecureBoot(dnf2.Root)
	p.checkNoKeyIn(filepath.Dir(p.repoDir))

	// A kernel whose SRPM upstream is broken fails; the watch does not
	// retry it, a rebuild by hand does once the SRPM is fixed; a kernel
	// already published is refused.
	const kernelE = "4.18.0-80.11.2.el8_0"
	bad := filepath.Join(p.upstream, "kernel-"+kernelE+".src.rpm")
	if err := os.WriteFile(bad, []byte("not an rpm"), 0o644); err != nil {
		t.Fatal(err)
	}
	p.watch()
	ctx := context.Background()
	if err := p.c.GetWorkflow(ctx, workflows.KernelID(kernelE), "").Get(ctx, nil); err == nil {
		t.Fatal("a broken SRPM was rebuilt")
	}
	if res := p.watch(); !slices.Contains(res.Skipped, workflows.KernelID(kernelE)) {
		t.Errorf("watch after the failure: %+v, want %s skipped", res, kernelE)
	}
	os.Remove(bad)
	p.addKernel(demo.NextKernel(b, kernelE, "none"))
	pkg := pipeline.SourcePackage{Name: "kernel", Version: "4.18.0", Release: "80.11.2.el8_0", Arch: "src", Location: filepath.Base(bad), Size: -1}
	if _, err := workflows.StartRebuild(ctx, p.c, p.plan, pkg); err != nil {
		t.Fatalf("rebuild by hand after a failure: %v", err)
	}
	if res := p.result(kernelE); res.Stage != pipeline.StagePublished {
		t.Errorf("E rebuilt by hand: %+v", res)
	}
	pkg.Release = "80.1.2.el8_0"
	if _, err := workflows.StartRebuild(ctx, p.c, p.plan, pkg); err == nil {
		t.Error("a published kernel was started again")
	}
}
