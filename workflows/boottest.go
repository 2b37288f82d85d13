package workflows

import (
	"cmp"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/activities"
	"github.com/kabiforge/kabiforge/pipeline"
)

// Boot states of an arch in Status.Boot.
const (
	BootPassed    = "booted"          // the kernel booted and tried every kmod
	BootNoBoot    = "no-boot"         // the kernel did not finish booting: the gate holds
	BootNotTested = "not-boot-tested" // boot_test is off for the arch
)

// notBootTested is what status says of a kmod only checked by CRCs.
const notBootTested = "not boot-tested"

// BootUnit is one arch's boot test in Status.
type BootUnit struct {
	State  string `json:"state"`
	Reason string `json:"reason,omitempty"`
	// Log is the VM's console log; Report the per-module results.
	Log     *pipeline.Artifact `json:"log,omitempty"`
	Report  *pipeline.Artifact `json:"report,omitempty"`
	Elapsed time.Duration      `json:"elapsed,omitempty"`
}

// bootTimeout is the start-to-close timeout of a BootTest: the VM's time
// limit (or its default) plus room to fetch and unpack the packages.
func bootTimeout(vm *pipeline.BootVM) time.Duration {
	return orDefault(vm.TimeLimit, time.Minute) + 10*time.Minute
}

// bootTest boots each boot-tested arch's kernel with every kmod to publish
// (rebuilt or kept). A kmod the kernel refuses is marked failed with the
// kernel's message; a kernel that does not boot is recorded in Status.Boot,
// where gateReasons finds it. Arches with boot_test off keep the CRC
// verdict, marked as not boot-tested.
func (r *rebuild) bootTest() error {
	var a *activities.Activities
	tested := false
	for _, arch := range r.in.Plan.Arches {
		if arch.Boot == nil {
			r.setBoot(arch.Name, BootUnit{State: BootNotTested})
			r.markNotBootTested()
			continue
		}
		if !tested {
			r.stage(pipeline.StageBootTesting)
			tested = true
		}
		in := pipeline.BootInput{KernelNVR: r.vr, Arch: arch.Name, Kernel: r.kernel[arch.Name].RPMs,
			Kmods: r.kmodsToPublish(arch.Name), VM: *arch.Boot}
		ctx := workflow.WithActivityOptions(r.ctx, workflow.ActivityOptions{
			TaskQueue:           cmp.Or(arch.Boot.Queue, pipeline.BootQueuePrefix+arch.Name),
			StartToCloseTimeout: bootTimeout(arch.Boot),
			HeartbeatTimeout:    time.Minute,
			RetryPolicy:         retry,
		})
		var out pipeline.BootOutput
		if err := workflow.ExecuteActivity(ctx, a.BootTest, in).Get(r.ctx, &out); err != nil {
			r.setBoot(arch.Name, BootUnit{State: BootNoBoot, Reason: "boot test failed: " + reason(err)})
			continue
		}
		r.recordBoot(arch.Name, out)
	}
	return nil
}

// recordBoot applies one arch's boot results to the status.
func (r *rebuild) recordBoot(arch string, out pipeline.BootOutput) {
	u := BootUnit{State: BootPassed, Log: &out.Log, Report: &out.Report, Elapsed: out.Elapsed}
	if !out.Booted {
		u.State, u.Reason = BootNoBoot, out.Failure
		r.setBoot(arch, u)
		return
	}
	r.setBoot(arch, u)
	r.st.Kabi.Reports = append(r.st.Kabi.Reports, out.Report)
	for _, k := range out.Kmods {
		if !k.Loaded {
			r.st.setKmod(k.Name, pipeline.StateFailed, fmt.Sprintf("refused by kernel %s (%s): %s", r.vr, arch, k.Reason))
			continue
		}
		switch st := r.st.Kmods[k.Name]; st.State {
		case pipeline.StateCompatible:
			r.st.setKmod(k.Name, pipeline.StateCompatible, fmt.Sprintf("published build loads on %s (boot-tested on %s)", r.vr, arch))
		case pipeline.StateRebuilt:
			r.st.setKmod(k.Name, pipeline.StateRebuilt, fmt.Sprintf("rebuilt for %s; loads (boot-tested on %s)", r.vr, arch))
		}
	}
}

// markNotBootTested says of each rebuilt kmod that only its CRCs were
// checked (kept kmods say so from the analysis on).
func (r *rebuild) markNotBootTested() {
	for _, k := range r.in.Plan.Kmods {
		if u := r.st.Kmods[k.Name]; u.State == pipeline.StateRebuilt && !strings.Contains(u.Reason, notBootTested) {
			r.st.setKmod(k.Name, pipeline.StateRebuilt, u.Reason+"; "+notBootTested)
		}
	}
}

// bootRecord is the provenance of arch's boot test, nil when not tested.
func (r *rebuild) bootRecord(arch string) *pipeline.BootRecord {
	u := r.st.Boot[arch]
	if u.State != BootPassed || u.Log == nil || u.Report == nil {
		return nil
	}
	return &pipeline.BootRecord{KernelNVR: r.vr, Arch: arch, Log: *u.Log, Report: *u.Report}
}

func (r *rebuild) setBoot(arch string, u BootUnit) {
	if r.st.Boot == nil {
		r.st.Boot = map[string]BootUnit{}
	}
	r.st.Boot[arch] = u
}

// kmodsToPublish maps each kmod still headed for the repository to its
// packages on arch.
func (r *rebuild) kmodsToPublish(arch string) map[string][]pipeline.Artifact {
	out := map[string][]pipeline.Artifact{}
	for _, k := range r.in.Plan.Kmods {
		if u := r.st.Kmods[k.Name]; u.State == pipeline.StateFailed || u.State == pipeline.StateExcluded {
			continue
		}
		if rpms := binaryRPMs(r.kmodRPMs(r.kmods[k.Name], arch)); len(rpms) > 0 {
			out[k.Name] = rpms
		}
	}
	return out
}

// binaryRPMs drops source packages.
func binaryRPMs(as []pipeline.Artifact) []pipeline.Artifact {
	var out []pipeline.Artifact
	for _, a := range as {
		if len(a.Name) < 8 || a.Name[len(a.Name)-8:] != ".src.rpm" {
			out = append(out, a)
		}
	}
	return out
}
