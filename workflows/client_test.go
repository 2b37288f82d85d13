package workflows

import (
	"slices"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/pipeline"
)

func TestPlanForTakesEverythingFromTheConfiguration(t *testing.T) {
	cfg, err := config.Parse([]byte(`
data_dir: /tmp/kf
sources:
  - {name: up, url: /tmp/kf/up, unsigned: true}
  - {name: elrepo, url: /tmp/kf/elrepo, unsigned: true}
streams:
  - {name: el8, source: up, version: 4.18.0, release: "*.el8*", arches: [x86_64], repository: r8}
  - {name: el9, source: up, version: 5.14.0, release: "*.el9*", repository: r9}
arches:
  - {name: x86_64}
  - {name: aarch64, queue: arm-builds}
builder: {time_limit: 3h, kmod_parallel: 4, heartbeat_timeout: 45s}
kmods:
  - {name: e1000e, source: elrepo, rebuild: always}
  - {name: nvidia, source: elrepo, streams: [el9]}
gate: {on: [kabi-changed], timeout: 24h, timeout_action: reject}
stores:
  repositories:
    - {name: r8, baseurl: "http://repo/r8/"}
    - {name: r9}
`), "/tmp/kf/kabiforge.yaml", func(string) (string, bool) { return "", false })
	if err != nil {
		t.Fatal(err)
	}
	el8, _ := cfg.Stream("el8")
	p := PlanFor(cfg, el8)
	if p.Source != "up" || p.Repository != "r8" || p.RepoURL != "http://repo/r8/" || p.ControlQueue != "kabiforge" ||
		p.KmodParallel != 4 || p.Timeouts.Build != 3*time.Hour || p.Timeouts.Heartbeat != 45*time.Second || p.ConfigHash == "" {
		t.Errorf("plan %+v", p)
	}
	if !slices.Equal(p.Arches, []Arch{{Name: "x86_64", Queue: "build-x86_64"}}) {
		t.Errorf("arches %+v", p.Arches)
	}
	if len(p.Kmods) != 1 || p.Kmods[0].Name != "e1000e" || !p.Kmods[0].Always || p.Kmods[0].Package != "kmod-e1000e" || p.Kmods[0].Source != "elrepo" {
		t.Errorf("el8 kmods %+v", p.Kmods)
	}
	if p.Gate.Timeout != 24*time.Hour || p.Gate.TimeoutAction != "reject" || !slices.Equal(p.Gate.On, []pipeline.GateCondition{pipeline.GateKabiChanged}) {
		t.Errorf("gate %+v", p.Gate)
	}
	in := WatchInputFor(cfg, "up")
	if len(in.Streams) != 2 || in.Streams[1].Version != "5.14.0" || len(in.Streams[1].Plan.Arches) != 2 || len(in.Streams[1].Plan.Kmods) != 2 {
		t.Errorf("watch input %+v", in)
	}
	if got := WatchInputFor(cfg, "elrepo"); len(got.Streams) != 0 {
		t.Errorf("a source no stream tracks is watched: %+v", got)
	}
	for nvr, want := range map[string]string{"4.18.0-80.el8": "kernel/4.18.0-80.el8", "kernel-4.18.0-80.el8": "kernel/4.18.0-80.el8"} {
		if got := KernelID(nvr); got != want {
			t.Errorf("KernelID(%s) = %s", nvr, got)
		}
	}
}
