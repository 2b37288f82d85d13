package activities

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/kabiforge/kabiforge/internal/boot/bootfixture"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/store"
)

// TestBootTestCatchesAWrongBuildThatPassesTheCRCCheck packages a module
// built for the real family's 6.1.0-47 under RPM Requires that claim the
// 6.1.0-57 CRCs (the module rebuilt for -57, read by modprobe): the CRC
// check passes it, the -57 kernel booted in QEMU refuses it with its own
// message, and the module really built for -57 loads.
func TestBootTestCatchesAWrongBuildThatPassesTheCRCCheck(t *testing.T) {
	qemu := testutil.RequireTool(t, "qemu-system-x86_64")
	testutil.RequireTool(t, "rpmbuild")
	old, cur := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	oldKo, newKo := bootfixture.Hello(t, old), bootfixture.Hello(t, cur)
	requires := bootfixture.Requires(t, newKo)
	art, _ := dirStore(t)
	kernel := storeRPMs(t, art, bootfixture.KernelCoreRPM(t, cur, requires))
	wrong := storeRPMs(t, art, bootfixture.KmodRPM(t, cur.Release, "1", oldKo, requires))
	right := storeRPMs(t, art, bootfixture.KmodRPM(t, cur.Release, "2", newKo, requires))

	a := &Activities{Artifacts: art, WorkDir: t.TempDir(), Boot: &BootEnv{}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	env.SetTestTimeout(5 * time.Minute)
	v, err := env.ExecuteActivity(a.CheckKmods, pipeline.CheckInput{Kernel: kernel, Kmods: map[string][]pipeline.Artifact{"hello": wrong}})
	if err != nil {
		t.Fatal(err)
	}
	var verdicts []pipeline.KmodVerdict
	if err := v.Get(&verdicts); err != nil || len(verdicts) != 1 || !verdicts[0].Compatible {
		t.Fatalf("CRC check of the wrong build: %+v %v; its Requires claim -57, so it should pass", verdicts, err)
	}
	vm := pipeline.BootVM{QEMU: qemu, TimeLimit: 2 * time.Minute}
	for _, tc := range []struct {
		name   string
		rpms   []pipeline.Artifact
		loaded bool
	}{{"built for -47", wrong, false}, {"built for -57", right, true}} {
		v, err := env.ExecuteActivity(a.BootTest, pipeline.BootInput{KernelNVR: "6.1.0-57.el8", Arch: "x86_64", Kernel: kernel,
			Kmods: map[string][]pipeline.Artifact{"hello": tc.rpms}, VM: vm})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var bo pipeline.BootOutput
		if err := v.Get(&bo); err != nil {
			t.Fatal(err)
		}
		if !bo.Booted || bo.Release != cur.Release || len(bo.Kmods) != 1 || bo.Kmods[0].Loaded != tc.loaded {
			t.Fatalf("%s: %+v", tc.name, bo)
		}
		if !tc.loaded && !strings.Contains(bo.Kmods[0].Reason, "hello: disagrees about version of symbol module_layout") {
			t.Errorf("%s: reason %q lacks the kernel's message", tc.name, bo.Kmods[0].Reason)
		}
		if log := readArtifact(t, art, bo.Log); !strings.Contains(log, "Linux version "+cur.Release) {
			t.Errorf("%s: console log %s does not show the kernel booting:\n%.2000s", tc.name, bo.Log.Key, log)
		}
		t.Logf("%s: boot %s (%s)", tc.name, bo.Elapsed, bo.Accel)
	}
}

func storeRPMs(t *testing.T, st store.Store, paths ...string) []pipeline.Artifact {
	t.Helper()
	var out []pipeline.Artifact
	for _, p := range paths {
		a, err := putFile(context.Background(), st, KindRPM, p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

func readArtifact(t *testing.T, st store.Store, a pipeline.Artifact) string {
	t.Helper()
	r, _, err := st.Get(context.Background(), a.Key)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
