package activities

import (
	"testing"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/repodata"
)

// TestCompatPageGreylistCounts: a published kernel's cells carry each
// kmod's greylist count from the rebuild's outcome, rebuilt and kept alike.
func TestCompatPageGreylistCounts(t *testing.T) {
	in := compatInput{Repo: "el8", BaseURL: "https://repo.example/el8", Revision: "1",
		Packages: []*repodata.Package{pkgAt("kernel-core", "6.1.0", "50.el8", "x86_64"),
			pkgAt("kmod-a", "1.0", "1.el8", "x86_64"), pkgAt("kmod-b", "1.0", "2.el8", "x86_64")},
		Records: []pipeline.Provenance{
			rec(pipeline.KindKernel, "", "6.1.0-50.el8", "kernel-core-6.1.0-50.el8.x86_64.rpm"),
			rec(pipeline.KindKmod, "a", "6.1.0-47.el8", "kmod-a-1.0-1.el8.x86_64.rpm"),
			rec(pipeline.KindKmod, "b", "6.1.0-50.el8", "kmod-b-1.0-2.el8.x86_64.rpm"),
		},
		Outcomes: map[string]pipeline.KernelOutcome{"6.1.0-50.el8": {KernelNVR: "6.1.0-50.el8", Kmods: map[string]pipeline.KmodOutcome{
			"a": {State: pipeline.StateCompatible, Greylist: 4},
			"b": {State: pipeline.StateRebuilt, Greylist: 9}}}},
	}
	p := compatPage(in)
	if len(p.Kernels) != 1 {
		t.Fatalf("kernels %+v", p.Kernels)
	}
	a, b := p.Kernels[0].Kmods["a"], p.Kernels[0].Kmods["b"]
	if a.State != "kept" || a.Greylisted != 4 || b.State != "rebuilt" || b.Greylisted != 9 {
		t.Errorf("cells a %+v, b %+v: want kept with 4 greylisted, rebuilt with 9", a, b)
	}
}
