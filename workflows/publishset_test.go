package workflows

import (
	"slices"
	"testing"

	"github.com/kabiforge/kabiforge/pipeline"
)

func TestPublishSet(t *testing.T) {
	rpms := func(names ...string) pipeline.BuildOutput {
		var b pipeline.BuildOutput
		for _, n := range names {
			b.RPMs = append(b.RPMs, pipeline.Artifact{Name: n})
		}
		return b
	}
	plan := Plan{Arches: []Arch{{Name: "x86_64"}, {Name: "aarch64"}},
		Kmods: []pipeline.KmodSpec{{Name: "rebuilt"}, {Name: "kept"}, {Name: "failed"}, {Name: "excluded"}, {Name: "oneArch"}}}
	kernel := map[string]pipeline.BuildOutput{"x86_64": rpms("kernel-core.x86_64", "kernel-devel.x86_64"), "aarch64": rpms("kernel-core.aarch64")}
	built := func(m map[string]pipeline.BuildOutput) *kmodWork { return &kmodWork{built: m} }
	tests := []struct {
		name         string
		states       map[string]pipeline.State
		kmods        map[string]*kmodWork
		want         []string // kind/kmod/arch/rpm
		wantExcluded []string
	}{
		{"nothing rebuilt: the kernel on every arch",
			map[string]pipeline.State{"rebuilt": pipeline.StateCompatible, "kept": pipeline.StateCompatible, "failed": pipeline.StateCompatible, "excluded": pipeline.StateCompatible, "oneArch": pipeline.StateCompatible},
			map[string]*kmodWork{"rebuilt": built(nil), "kept": built(nil), "failed": built(nil), "excluded": built(nil), "oneArch": built(nil)},
			[]string{"kernel//x86_64/kernel-core.x86_64", "kernel//x86_64/kernel-devel.x86_64", "kernel//aarch64/kernel-core.aarch64"}, nil},
		{"rebuilt kmods follow the kernel, per arch; failed and excluded are left out in plan order",
			map[string]pipeline.State{"rebuilt": pipeline.StateRebuilt, "kept": pipeline.StateCompatible, "failed": pipeline.StateFailed, "excluded": pipeline.StateExcluded, "oneArch": pipeline.StateRebuilt},
			map[string]*kmodWork{
				"rebuilt":  built(map[string]pipeline.BuildOutput{"x86_64": rpms("kmod-r.x86_64"), "aarch64": rpms("kmod-r.aarch64")}),
				"kept":     built(nil),
				"failed":   built(map[string]pipeline.BuildOutput{"x86_64": rpms("kmod-f.x86_64")}),
				"excluded": built(map[string]pipeline.BuildOutput{"x86_64": rpms("kmod-e.x86_64")}),
				"oneArch":  built(map[string]pipeline.BuildOutput{"aarch64": rpms("kmod-o.aarch64")})},
			[]string{"kernel//x86_64/kernel-core.x86_64", "kernel//x86_64/kernel-devel.x86_64", "kernel//aarch64/kernel-core.aarch64",
				"kmod/rebuilt/x86_64/kmod-r.x86_64", "kmod/rebuilt/aarch64/kmod-r.aarch64", "kmod/oneArch/aarch64/kmod-o.aarch64"},
			[]string{"failed", "excluded"}},
	}
	for _, tt := range tests {
		states := map[string]Unit{}
		for k, s := range tt.states {
			states[k] = Unit{State: s}
		}
		items, excluded := publishSet(plan, kernel, pipeline.Fetched{}, states, tt.kmods)
		var got []string
		for _, it := range items {
			got = append(got, string(it.kind)+"/"+it.kmod+"/"+it.arch+"/"+it.rpm.Name)
		}
		if !slices.Equal(got, tt.want) || !slices.Equal(excluded, tt.wantExcluded) {
			t.Errorf("%s:\n got %q, excluded %q\nwant %q, excluded %q", tt.name, got, excluded, tt.want, tt.wantExcluded)
		}
	}
}
