package workflows_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/compat"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/workflows"
)

// watch runs KernelWatch once, as the schedule does.
func (p *livePipeline) watch() workflows.WatchResult {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := p.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{TaskQueue: p.plan.ControlQueue},
		pipeline.KernelWatchWorkflow, workflows.WatchInput{Source: "upstream",
			Streams: []workflows.WatchStream{{Version: p.version, Release: "*.el8*", Plan: p.plan}}})
	if err != nil {
		p.t.Fatal(err)
	}
	var res workflows.WatchResult
	if err := run.Get(ctx, &res); err != nil {
		p.t.Fatalf("watch: %v", err)
	}
	return res
}

// result waits for a kernel's rebuild to finish.
func (p *livePipeline) result(vr string) workflows.RebuildResult {
	p.t.Helper()
	// A kernel, then its kmods, each build at most the build time limit.
	ctx, cancel := context.WithTimeout(context.Background(), 3*p.plan.Timeouts.Build)
	defer cancel()
	var res workflows.RebuildResult
	if err := p.c.GetWorkflow(ctx, workflows.KernelID(vr), "").Get(ctx, &res); err != nil {
		p.t.Fatalf("rebuild %s: %v", vr, err)
	}
	return res
}

func (p *livePipeline) status(vr string) workflows.Status {
	p.t.Helper()
	s, err := workflows.GetStatus(context.Background(), p.c, vr)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

// waitStage polls the status query until the rebuild reaches stage, for
// at most the plan's build time limit (5 minutes at least).
func (p *livePipeline) waitStage(vr string, stage pipeline.Stage) workflows.Status {
	p.t.Helper()
	deadline := time.Now().Add(max(5*time.Minute, p.plan.Timeouts.Build))
	for {
		s, err := workflows.GetStatus(context.Background(), p.c, vr)
		if err == nil && s.Stage == stage {
			return s
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s never reached %s: %+v %v", vr, stage, s, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// listed returns the workflow IDs a visibility query finds, waiting for
// visibility to catch up with want.
func (p *livePipeline) listed(query string, want int) []string {
	p.t.Helper()
	var ids []string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
		ids = nil
		it, err := p.c.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			p.t.Fatalf("list %q: %v", query, err)
		}
		for _, e := range it.Executions {
			ids = append(ids, e.Execution.WorkflowId)
		}
		if len(ids) == want || time.Now().After(deadline) {
			return ids
		}
	}
}

// activityTime sums the run time of the activities of one type in a history.
func (p *livePipeline) activityTime(id, activityType string) time.Duration {
	p.t.Helper()
	var total time.Duration
	started := map[int64]time.Time{}
	scheduled := map[int64]string{}
	it := p.c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			p.t.Fatal(err)
		}
		switch {
		case e.GetActivityTaskScheduledEventAttributes() != nil:
			scheduled[e.EventId] = e.GetActivityTaskScheduledEventAttributes().ActivityType.GetName()
		case e.GetActivityTaskStartedEventAttributes() != nil:
			started[e.GetActivityTaskStartedEventAttributes().ScheduledEventId] = e.EventTime.AsTime()
		case e.GetActivityTaskCompletedEventAttributes() != nil:
			id := e.GetActivityTaskCompletedEventAttributes().ScheduledEventId
			if scheduled[id] == activityType {
				total += e.EventTime.AsTime().Sub(started[id])
			}
		}
	}
	if total == 0 {
		p.t.Fatalf("%s ran no %s activity", id, activityType)
	}
	return total
}

// historyJSON exports a workflow's history as the replayer reads it.
func (p *livePipeline) historyJSON(id string) []byte {
	p.t.Helper()
	it := p.c.GetWorkflowHistory(context.Background(), id, "", false, 0)
	var h historypb.History
	for it.HasNext() {
		e, err := it.Next()
		if err != nil {
			p.t.Fatal(err)
		}
		h.Events = append(h.Events, e)
	}
	data, err := protojson.MarshalOptions{Indent: " "}.Marshal(&h)
	if err != nil {
		p.t.Fatal(err)
	}
	return data
}

// checkHistory fails when a history holds key material or the passphrase,
// and records it under testdata/history (the workflow ID, "/" spelled "~")
// when asked to.
func (p *livePipeline) checkHistory(id string) {
	p.t.Helper()
	data := p.historyJSON(id)
	for _, found := range historySecrets(p.secrets(), data) {
		p.t.Errorf("history of %s holds %s", id, found)
	}
	if os.Getenv(EnvRecord) == "1" {
		if err := os.WriteFile(filepath.Join("testdata", "history", strings.ReplaceAll(id, "/", "~")+".json"), data, 0o644); err != nil {
			p.t.Fatal(err)
		}
	}
}

func (p *livePipeline) addKernel(k demo.Kernel) {
	p.t.Helper()
	if _, err := demo.KernelSRPM(p.upstream, k); err != nil {
		p.t.Fatal(err)
	}
}

// withoutSymbol is k with one export removed: kmods using it cannot build.
func withoutSymbol(k demo.Kernel, nvr, sym string) demo.Kernel {
	k = demo.NextKernel(k, nvr, "none-changed")
	k.Symbols = slices.DeleteFunc(slices.Clone(k.Symbols), func(s demo.Symbol) bool { return s.Name == sym })
	return k
}

func (p *livePipeline) repomd() []byte {
	data, err := os.ReadFile(filepath.Join(p.repoDir, "repodata", "repomd.xml"))
	if err != nil {
		p.t.Fatal(err)
	}
	return data
}

// greylist counts, with rpm, cpio and comm, the kernel(sym) Requires of a
// published package that the kernel-abi-stablelists package of kernel vr
// does not list (module_layout aside): an independent count of what status
// calls the kmod's greylist.
func (p *livePipeline) greylist(rpmFile, vr string) int {
	p.t.Helper()
	lists, _ := filepath.Glob(filepath.Join(p.repoDir, "Packages", "*", "kernel-abi-stablelists-"+vr+".noarch.rpm"))
	pkgs, _ := filepath.Glob(filepath.Join(p.repoDir, "Packages", "*", rpmFile))
	if len(lists) != 1 || len(pkgs) != 1 {
		p.t.Fatalf("published %s %v and stablelists %v: want one of each", rpmFile, pkgs, lists)
	}
	out, err := exec.Command("bash", "-c", `export LC_ALL=C
comm -23 <(rpm -qp --nosignature --requires "$1" | sed -n 's/^kernel(\([^)]*\)).*/\1/p' | sort -u) \
	<(rpm2cpio "$2" | cpio -i --quiet --to-stdout '*kabi_stablelist_*' | sed -n 's/^[[:space:]]\{1,\}//p' | sort -u) |
	grep -cvx module_layout`, "sh", pkgs[0], lists[0]).Output()
	n, convErr := strconv.Atoi(strings.TrimSpace(string(out)))
	if convErr != nil { // grep -c exits 1 when it counts 0
		p.t.Fatalf("greylist of %s: %v %v %q", rpmFile, err, convErr, out)
	}
	return n
}

// page reads the compatibility page's status.json that repomd.xml names,
// checks it carries repomd.xml's revision and is the file at the root,
// and returns each kernel's cell of each kmod, "kernel/kmod" → state.
func (p *livePipeline) page() map[string]compat.Cell {
	p.t.Helper()
	md, err := repodata.DecodeRepomd(bytes.NewReader(p.repomd()))
	if err != nil {
		p.t.Fatal(err)
	}
	d := md.Find(activities.PageStatusType)
	if d == nil {
		p.t.Fatalf("repomd.xml revision %s names no compatibility page", md.Revision)
	}
	named, err := os.ReadFile(filepath.Join(p.repoDir, d.Location))
	if err != nil {
		p.t.Fatal(err)
	}
	if root, err := os.ReadFile(filepath.Join(p.repoDir, "status.json")); err != nil || !bytes.Equal(root, named) {
		p.t.Errorf("status.json at the root is not the one revision %s names: %v", md.Revision, err)
	}
	var pg compat.Page
	if err := json.Unmarshal(named, &pg); err != nil {
		p.t.Fatal(err)
	}
	if pg.Revision != md.Revision {
		p.t.Errorf("status.json says revision %s, repomd.xml %s", pg.Revision, md.Revision)
	}
	cells := map[string]compat.Cell{}
	for _, k := range pg.Kernels {
		for name, c := range k.Kmods {
			cells[k.NVR+"/"+name] = c
		}
	}
	return cells
}
