package activities

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/drift"
	"github.com/kabiforge/kabiforge/repo/provenance"
)

// kabiSpec is a binary package with the given kABI Provides or Requires.
func kabiSpec(name, version, release, tag string, deps ...string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Name: %s\nVersion: %s\nRelease: %s\nSummary: %s\nLicense: MIT\nAutoReqProv: no\n", name, version, release, name)
	for _, d := range deps {
		fmt.Fprintf(&b, "%s: %s\n", tag, d)
	}
	b.WriteString("%description\ntest package\n%files\n")
	return b.String()
}

// TestDriftCheckNamesWhatItCannotRead checks real packages: a reference
// kernel-core with kernel(sym) Provides against three published kmods (one
// compatible, one whose symbol changed, one package that is no RPM), then
// a reference kernel without kABI data. Unreadable inputs are report
// entries naming the problem, not errors.
func TestDriftCheckNamesWhatItCannotRead(t *testing.T) {
	ctx := context.Background()
	art, _ := dirStore(t)
	repo, _ := dirStore(t)
	rpm := func(spec string) pipeline.Artifact { return storeRPMs(t, art, testutil.RPMBuild(t, spec)...)[0] }
	ref := rpm(kabiSpec("kernel-core", "4.18.0", "500.el8", "Provides", "kernel(kfree) = 0x00000001", "kernel(misc_register) = 0x00000020"))
	bare := rpm(kabiSpec("kernel-core", "4.18.0", "501.el8", "Provides"))
	pub := rpm(kabiSpec("kernel-core", "4.18.0", "477.el8", "Provides", "kernel(kfree) = 0x00000001", "kernel(misc_register) = 0x00000002", "kernel(printk) = 0x00000003"))
	good := rpm(kabiSpec("kmod-good", "1.0", "1.el8", "Requires", "kernel(kfree) = 0x00000001"))
	changed := rpm(kabiSpec("kmod-changed", "1.0", "1.el8", "Requires", "kernel(kfree) = 0x00000001", "kernel(misc_register) = 0x00000002"))
	garbage, err := putBytes(ctx, art, KindRPM, "kmod-garbage-1.0-1.el8.x86_64.rpm", []byte("this is not an RPM"))
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []pipeline.Provenance{
		{RPM: pub, SourceRPM: art0("kernel"), Kind: pipeline.KindKernel, KernelNVR: "4.18.0-477.el8"},
		{RPM: good, SourceRPM: art0("good"), Kind: pipeline.KindKmod, Kmod: "good", KernelNVR: "4.18.0-477.el8"},
		{RPM: changed, SourceRPM: art0("changed"), Kind: pipeline.KindKmod, Kmod: "changed", KernelNVR: "4.18.0-477.el8"},
		{RPM: garbage, SourceRPM: art0("garbage"), Kind: pipeline.KindKmod, Kmod: "garbage", KernelNVR: "4.18.0-477.el8"},
	} {
		p.Time = time.Unix(1, 0)
		if err := provenance.Write(ctx, repo, p); err != nil {
			t.Fatal(err)
		}
	}
	a := &Activities{Artifacts: art, Repositories: map[string]Repository{"el8": {Store: repo}}, WorkDir: t.TempDir()}
	kmods := []pipeline.KmodSpec{{Name: "good"}, {Name: "changed"}, {Name: "garbage"}, {Name: "unpublished"}}
	in := pipeline.DriftCheckInput{Stream: "el8", KernelNVR: "4.18.0-500.el8", Repository: "el8", Arches: []string{"x86_64"},
		Kernel: map[string][]pipeline.Artifact{"x86_64": {ref}}, Kmods: kmods}
	sum, err := a.DriftCheck(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	var r drift.Report
	if err := json.Unmarshal([]byte(readArtifact(t, art, sum.Report)), &r); err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, k := range r.Arches[0].Kmods {
		states[k.Name] = string(k.State)
		if k.Problem != "" {
			states[k.Name] += ": " + k.Problem
		}
		for _, b := range k.Breaks {
			states[k.Name] += fmt.Sprintf(" %s want %s have %s", b.Name, b.Want, b.Have)
		}
	}
	want := map[string]string{"good": "compatible", "changed": "broken misc_register want 0x00000002 have 0x00000020"}
	for name, w := range want {
		if states[name] != w {
			t.Errorf("%s: %q, want %q", name, states[name], w)
		}
	}
	if g := states["garbage"]; !strings.HasPrefix(g, "unknown: ") || !strings.Contains(g, "kmod-garbage-1.0-1.el8.x86_64.rpm") {
		t.Errorf("garbage: %q, want unknown naming the package", g)
	}
	if _, ok := states["unpublished"]; ok || len(states) != 3 {
		t.Errorf("states %v: want the three published kmods", states)
	}
	c := r.Arches[0].Against
	if c == nil || c.Published != "4.18.0-477.el8" || c.Removed != 1 || c.Changed != 1 || strings.Join(c.Used, ",") != "misc_register" {
		t.Errorf("comparison %+v, want against 4.18.0-477.el8: printk removed, misc_register changed and used", c)
	}
	if sum.Broken != 1 || sum.Unknown != 1 || r.Broken != 1 {
		t.Errorf("summary %+v report broken %d", sum, r.Broken)
	}

	in.KernelNVR, in.Kernel = "4.18.0-501.el8", map[string][]pipeline.Artifact{"x86_64": {bare}}
	sum, err = a.DriftCheck(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Problems) != 1 || !strings.Contains(sum.Problems[0], "kernel(sym) Provides") || strings.Contains(sum.Problems[0], "retryable") || sum.Unknown != 3 {
		t.Errorf("a kernel without kABI data: %+v, want its problem and every kmod unknown", sum)
	}
}

func art0(name string) pipeline.Artifact {
	return pipeline.Artifact{Key: "srpms/" + name, SHA256: fmt.Sprintf("%x", sha256.Sum256([]byte(name))), Name: name + ".src.rpm"}
}
