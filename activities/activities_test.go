package activities

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/source"
	"github.com/kabiforge/kabiforge/repo/store"
)

func dirStore(t *testing.T) (*store.Dir, string) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	return st, dir
}

// specSRPM builds a source package of a spec whose %install runs script.
func specSRPM(t *testing.T, name, script string) string {
	t.Helper()
	testutil.RequireTool(t, "rpmbuild")
	spec := strings.Replace(testutil.SimpleSpec(name, "1.0", "1"), "%install\n", "%install\n"+script+"\n", 1)
	p, err := demo.SRPM(t.TempDir(), name+".spec", []byte(spec), nil)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func appType(err error) (string, bool) {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Type(), app.NonRetryable()
	}
	return "", false
}

func TestBuildStoresOutputsByContentAndHeartbeatsProgress(t *testing.T) {
	art, _ := dirStore(t)
	srpm, err := putFile(context.Background(), art, KindSRPM, specSRPM(t, "hb", "for i in $(seq 1 20); do echo progress line $i; sleep 0.1; done"))
	if err != nil {
		t.Fatal(err)
	}
	a := &Activities{Artifacts: art, Builder: &build.Rpmbuild{}, BuilderName: "rpmbuild", WorkDir: t.TempDir(), Host: "test-host"}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	var beats []Progress
	env.SetOnActivityHeartbeatListener(func(_ *activityInfo, details encodedValues) {
		var p Progress
		if details.HasValues() && details.Get(&p) == nil {
			beats = append(beats, p)
		}
	})
	env.SetTestTimeout(2 * time.Minute)
	v, err := env.ExecuteActivity(a.Build, pipeline.BuildInput{Label: "hb", SRPM: srpm, Arch: "x86_64"})
	if err != nil {
		t.Fatal(err)
	}
	var out pipeline.BuildOutput
	if err := v.Get(&out); err != nil {
		t.Fatal(err)
	}
	if len(out.RPMs) != 1 || out.RPMs[0].Name != "hb-1.0-1.el8.noarch.rpm" || out.Host != "test-host" || len(out.Logs) == 0 {
		t.Fatalf("output %+v", out)
	}
	for _, ref := range append(out.RPMs, out.Logs...) {
		p, err := getFile(context.Background(), art, ref, t.TempDir())
		if err != nil {
			t.Errorf("%s: %v", ref.Key, err)
		} else if !strings.HasPrefix(ref.Key, "rpms/"+ref.SHA256+"/") && !strings.HasPrefix(ref.Key, "logs/"+ref.SHA256+"/") {
			t.Errorf("key %s is not content-addressed (%s)", ref.Key, p)
		}
	}
	if len(beats) == 0 {
		t.Fatal("no heartbeats")
	}
	last := beats[len(beats)-1]
	if last.LogBytes == 0 || last.LogLines == 0 {
		t.Errorf("last heartbeat %+v carries no progress", last)
	}
}

func TestBuildFailureIsNotRetryable(t *testing.T) {
	art, _ := dirStore(t)
	srpm, err := putFile(context.Background(), art, KindSRPM, specSRPM(t, "broken", "echo this package is broken; exit 1"))
	if err != nil {
		t.Fatal(err)
	}
	a := &Activities{Artifacts: art, Builder: &build.Rpmbuild{}, WorkDir: t.TempDir()}
	_, err = a.Build(context.Background(), pipeline.BuildInput{Label: "broken", SRPM: srpm, Arch: "x86_64"})
	if typ, nonRetryable := appType(err); typ != ErrPackageBuild || !nonRetryable {
		t.Fatalf("err = %v (type %q), want a non-retryable %s", err, typ, ErrPackageBuild)
	}
}

func TestBuildCancelStopsTheBuild(t *testing.T) {
	art, _ := dirStore(t)
	srpm, err := putFile(context.Background(), art, KindSRPM, specSRPM(t, "slow", "sleep 120"))
	if err != nil {
		t.Fatal(err)
	}
	a := &Activities{Artifacts: art, Builder: &build.Rpmbuild{}, WorkDir: t.TempDir()}
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(2*time.Second, cancel)
	start := time.Now()
	_, err = a.Build(ctx, pipeline.BuildInput{Label: "slow", SRPM: srpm, Arch: "x86_64"})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want cancellation", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("cancelled build took %v to stop", d)
	}
}

func TestFetchVerifiesAgainstTheListing(t *testing.T) {
	art, _ := dirStore(t)
	up, upDir := dirStore(t)
	p := specSRPM(t, "up", "")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(upDir, filepath.Base(p)), data, 0o644); err != nil {
		t.Fatal(err)
	}
	a := &Activities{Artifacts: art, WorkDir: t.TempDir(),
		Sources: map[string]Source{"up": {Source: source.FromStore(up), Fetch: source.FetchOptions{Unsigned: true}}}}
	pkgs, err := a.ListSource(context.Background(), "up")
	if err != nil || len(pkgs) != 1 || pkgs[0].Name != "up" {
		t.Fatalf("list: %+v %v", pkgs, err)
	}
	f, err := a.FetchSRPM(context.Background(), pipeline.FetchInput{Source: "up", Package: pkgs[0]})
	if err != nil {
		t.Fatal(err)
	}
	if f.Name != filepath.Base(p) || f.Size != int64(len(data)) {
		t.Errorf("fetched %+v", f)
	}
	if _, err := getFile(context.Background(), art, f.Artifact, t.TempDir()); err != nil {
		t.Errorf("fetched artifact unreadable: %v", err)
	}
	bad := pkgs[0]
	bad.ChecksumType, bad.ChecksumHex = "sha256", strings.Repeat("0", 64)
	_, err = a.FetchSRPM(context.Background(), pipeline.FetchInput{Source: "up", Package: bad})
	if typ, nonRetryable := appType(err); typ != ErrBadInput || !nonRetryable {
		t.Errorf("wrong checksum: err = %v, want non-retryable %s", err, ErrBadInput)
	}
	if _, err := a.FetchSRPM(context.Background(), pipeline.FetchInput{Source: "nowhere", Package: bad}); err == nil || !strings.Contains(err.Error(), `source "nowhere"`) {
		t.Errorf("unknown source: %v", err)
	}
}

func TestGetFileRefusesCorruptArtifacts(t *testing.T) {
	art, dir := dirStore(t)
	ref, err := putBytes(context.Background(), art, KindReport, "r.txt", []byte("report"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ref.Key), []byte("tampered"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = getFile(context.Background(), art, ref, t.TempDir())
	if typ, _ := appType(err); typ != ErrBadInput || !strings.Contains(err.Error(), "sha256") {
		t.Errorf("err = %v", err)
	}
	ref.Name = "../escape"
	if _, err := getFile(context.Background(), art, ref, t.TempDir()); err == nil {
		t.Error("accepted a name with a path")
	}
}

func TestClassify(t *testing.T) {
	for _, tc := range []struct {
		err          error
		typ          string
		nonRetryable bool
	}{
		{&source.BadInputError{Input: "x", Err: source.ErrSignature}, ErrSignature, true},
		{&source.BadInputError{Input: "x", Err: source.ErrChecksum}, ErrBadInput, true},
		{&source.AccessError{URL: "u", Status: 403, Err: errors.New("forbidden")}, ErrBadInput, true},
		{&build.PackageError{SRPM: "s", Reason: "exit 1"}, ErrPackageBuild, true},
		{&build.DependencyError{SRPM: "s", Missing: []string{"gcc"}}, ErrDependency, true},
		{&build.InfraError{SRPM: "s", Op: "run", Err: errors.New("disk full")}, "Infra", false},
		{&source.NetworkError{URL: "u", Err: errors.New("reset")}, "", false},
		{fmt.Errorf("store: %w", errors.New("timeout")), "", false},
	} {
		err := classify("op", tc.err)
		typ, nonRetryable := appType(err)
		if typ != tc.typ || nonRetryable != tc.nonRetryable || !strings.HasPrefix(err.Error(), "op: ") {
			t.Errorf("classify(%T) = %v (type %q, non-retryable %v), want %q %v", tc.err, err, typ, nonRetryable, tc.typ, tc.nonRetryable)
		}
	}
	if classify("op", nil) != nil {
		t.Error("classify(nil) != nil")
	}
}

func TestSignAndPublishWriteProvenanceBesideTheRepo(t *testing.T) {
	art, _ := dirStore(t)
	repo, repoDir := dirStore(t)
	testutil.RequireTool(t, "rpmbuild")
	res, err := (&build.Rpmbuild{}).Build(context.Background(), build.Request{SRPM: specSRPM(t, "pub", ""), Arch: "x86_64", ResultDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ref, err := putFile(context.Background(), art, KindRPM, res.RPMs[0])
	if err != nil {
		t.Fatal(err)
	}
	key, err := sign.Generate("t", "t@example.org", sign.RSA4096)
	if err != nil {
		t.Fatal(err)
	}
	a := &Activities{Artifacts: art, Signer: sign.NewSigner(key), WorkDir: t.TempDir(),
		Repositories: map[string]Repository{"r": {Store: repo, BaseURL: "file://" + repoDir + "/", Retention: publish.Retention{Kernels: 2}}}}
	signed, err := a.Sign(context.Background(), pipeline.SignInput{RPMs: []pipeline.Artifact{ref}})
	if err != nil {
		t.Fatal(err)
	}
	if signed.KeyID != key.KeyID() || len(signed.RPMs) != 1 || signed.RPMs[0].SHA256 == ref.SHA256 {
		t.Fatalf("signed %+v", signed)
	}
	p, err := getFile(context.Background(), art, signed.RPMs[0], t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if sigs, err := key.Keyring().VerifyRPM(p); err != nil || len(sigs) == 0 {
		t.Fatalf("signed copy does not verify: %v", err)
	}
	prov := pipeline.Provenance{RPM: signed.RPMs[0], SourceRPM: ref, SigningKeyID: signed.KeyID, Builder: "rpmbuild", ConfigHash: "h",
		BuildHost: "b", KernelNVR: "4.18.0-80.el8", Kind: "kmod", Kmod: "pub", Time: time.Unix(1, 0).UTC()}
	req := pipeline.PublishRequest{ID: "one", Repository: "r", Add: signed.RPMs, Provenance: []pipeline.Provenance{prov}}
	out, err := a.Publish(context.Background(), req)
	// The package, and r-release (the repository has a base URL).
	if err != nil || !out.Committed || out.Packages != 2 {
		t.Fatalf("publish: %+v %v", out, err)
	}
	again, err := a.Publish(context.Background(), req)
	if err != nil || again.Committed {
		t.Errorf("publishing the same request again committed: %+v %v", again, err)
	}
	pub, err := provenance.Load(context.Background(), repo)
	recs := pub.Records()
	if err != nil || len(recs) != 1 || recs[0].SigningKeyID != key.KeyID() || recs[0].RPM.SHA256 != signed.RPMs[0].SHA256 {
		t.Fatalf("provenance %+v %v", recs, err)
	}
	got := pub.Kmod("x86_64", "pub")
	if got == nil || got.SRPM.SHA256 != ref.SHA256 || len(got.RPMs) != 1 {
		t.Errorf("newest published %+v", got)
	}
	if _, err := os.Stat(filepath.Join(repoDir, publish.RepomdKey)); err != nil {
		t.Error(err)
	}
}
