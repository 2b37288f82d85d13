package activities

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/compat"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// TestPublishCommitsTheCompatibilityPage publishes a kernel with two
// kmods, then a reference kernel's drift report alone, through the Publish
// activity: each time the page and status.json are named in the same
// repomd.xml as the packages and carry its revision; headless Chromium,
// against repo serve, reads each kmod's state from the rendered DOM.
func TestPublishCommitsTheCompatibilityPage(t *testing.T) {
	browser := testutil.Chromium(t)
	ctx := context.Background()
	art, _ := dirStore(t)
	repo, repoDir := dirStore(t)
	key, err := sign.Generate("t", "t@example.org", sign.Ed25519)
	if err != nil {
		t.Fatal(err)
	}
	a := &Activities{Artifacts: art, Signer: sign.NewSigner(key), WorkDir: t.TempDir(),
		Repositories: map[string]Repository{"el8": {Store: repo, BaseURL: "http://repo.example/el8/", Retention: publish.Retention{Kernels: 3}}}}
	rpm := func(spec string) pipeline.Artifact { return storeRPMs(t, art, testutil.RPMBuild(t, spec)...)[0] }
	built := []pipeline.Artifact{
		rpm(kabiSpec("kernel-core", "6.1.0", "47.el8", "Provides", "kernel(kfree) = 0x00000001", "kernel(misc_register) = 0x00000002")),
		rpm(kabiSpec("kmod-a", "1.0", "1.el8", "Requires", "kernel(kfree) = 0x00000001")),
		rpm(kabiSpec("kmod-b", "1.0", "1.el8", "Requires", "kernel(misc_register) = 0x00000002")),
	}
	signed, err := a.Sign(ctx, pipeline.SignInput{RPMs: built})
	if err != nil {
		t.Fatal(err)
	}
	req := pipeline.PublishRequest{ID: "kernel", Repository: "el8", Add: signed.RPMs,
		Kernel: &pipeline.KernelOutcome{KernelNVR: "6.1.0-47.el8", Kmods: map[string]pipeline.KmodOutcome{
			"a": {State: pipeline.StateRebuilt, Reason: "no published build"}, "b": {State: pipeline.StateRebuilt, Reason: "no published build"}}}}
	for i, kind := range []pipeline.Kind{pipeline.KindKernel, pipeline.KindKmod, pipeline.KindKmod} {
		req.Provenance = append(req.Provenance, pipeline.Provenance{RPM: signed.RPMs[i], SourceRPM: art0(signed.RPMs[i].Name),
			Kind: kind, Kmod: []string{"", "a", "b"}[i], KernelNVR: "6.1.0-47.el8", Time: time.Unix(1, 0)})
	}
	res, err := a.Publish(ctx, req)
	if err != nil || !res.Committed {
		t.Fatalf("publish: %+v %v", res, err)
	}
	page := pageOfRevision(t, repoDir, res.Revision)
	if c := cellOf(page, "6.1.0-47.el8", "b"); c.State != compat.Rebuilt || c.Version != "1.0-1.el8" {
		t.Errorf("6.1.0-47.el8 × b: %+v, want rebuilt 1.0-1.el8", c)
	}

	time.Sleep(1100 * time.Millisecond) // revisions are seconds
	ref := rpm(kabiSpec("kernel-core", "6.1.0", "57.el8", "Provides", "kernel(kfree) = 0x00000001", "kernel(misc_register) = 0x00000020"))
	sum, err := a.DriftCheck(ctx, pipeline.DriftCheckInput{Stream: "el8", KernelNVR: "6.1.0-57.el8", Repository: "el8", Arches: []string{"x86_64"},
		Kernel: map[string][]pipeline.Artifact{"x86_64": {ref}}, Kmods: []pipeline.KmodSpec{{Name: "a"}, {Name: "b"}}})
	if err != nil {
		t.Fatal(err)
	}
	dreq := pipeline.PublishRequest{ID: "drift", Repository: "el8", Drift: []pipeline.DriftReport{{KernelNVR: "6.1.0-57.el8", Report: sum.Report}}}
	res2, err := a.Publish(ctx, dreq)
	if err != nil || !res2.Committed || res2.Revision == res.Revision || res2.Packages != res.Packages {
		t.Fatalf("drift publish: %+v %v, want a new revision with the same packages", res2, err)
	}
	if got, err := os.ReadFile(filepath.Join(repoDir, "drift", "6.1.0-57.el8.json")); err != nil || string(got) != readArtifact(t, art, sum.Report) {
		t.Errorf("drift/6.1.0-57.el8.json differs from the report: %v", err)
	}
	page = pageOfRevision(t, repoDir, res2.Revision)
	if c := cellOf(page, "6.1.0-57.el8", "b"); c.State != compat.Broken || strings.Join(c.Symbols, ",") != "misc_register" {
		t.Errorf("6.1.0-57.el8 × b: %+v, want broken by misc_register", c)
	}
	if again, err := a.Publish(ctx, dreq); err != nil || again.Committed {
		t.Errorf("the same drift report again: %+v %v, want no commit", again, err)
	}

	srv := httptest.NewServer(serve.Handler(repo, zerolog.Nop()))
	defer srv.Close()
	cells := testutil.PageCells(t, browser.DOM(t, srv.URL+"/"))
	for k, want := range map[string]string{"6.1.0-47.el8/a": "rebuilt", "6.1.0-47.el8/b": "rebuilt",
		"6.1.0-57.el8/a": "compatible", "6.1.0-57.el8/b": "broken"} {
		if !strings.HasPrefix(cells[k], want) {
			t.Errorf("the browser reads %s as %q, want %s…", k, cells[k], want)
		}
	}
	shot := filepath.Join(testutil.ArtifactDir(t), "published-compat-page.png")
	browser.Screenshot(t, srv.URL+"/", shot)
	t.Logf("screenshot: %s", shot)
}

// pageOfRevision reads repomd.xml and the status.json it names, checks
// that the root copy is the same file and that both carry revision rev.
func pageOfRevision(t *testing.T, dir, rev string) compat.Page {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(dir, publish.RepomdKey))
	if err != nil {
		t.Fatal(err)
	}
	md, err := repodata.DecodeRepomd(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	d, idx := md.Find(PageStatusType), md.Find(PageIndexType)
	if md.Revision != rev || d == nil || idx == nil {
		t.Fatalf("repomd.xml revision %s (want %s), status %v, index %v", md.Revision, rev, d, idx)
	}
	named, err := os.ReadFile(filepath.Join(dir, d.Location))
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.ReadFile(filepath.Join(dir, "status.json"))
	if err != nil || !bytes.Equal(root, named) {
		t.Errorf("status.json at the root differs from %s of revision %s", d.Location, rev)
	}
	html, err := os.ReadFile(filepath.Join(dir, idx.Location))
	if err != nil || !bytes.Contains(html, []byte(`<span id="revision">`+rev+`</span>`)) {
		t.Errorf("%s does not name revision %s: %v", idx.Location, rev, err)
	}
	var p compat.Page
	if err := json.Unmarshal(named, &p); err != nil {
		t.Fatal(err)
	}
	if p.Revision != rev {
		t.Errorf("status.json revision %s, repomd.xml %s", p.Revision, rev)
	}
	return p
}

func cellOf(p compat.Page, kernel, kmod string) compat.Cell {
	for _, k := range p.Kernels {
		if k.NVR == kernel {
			return k.Kmods[kmod]
		}
	}
	return compat.Cell{}
}
