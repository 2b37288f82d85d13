//go:build sourcekernel

package workflows_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/kabiforge/kabiforge/internal/boot"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/workflows"
)

// errnoEKEYREJECTED is finit_module's errno for a module whose signature
// the kernel refuses.
const errnoEKEYREJECTED = int(unix.EKEYREJECTED)

// TestSourceKernelBootGateEnforcesSignatures runs through the pipeline a
// kernel that trusts the repository's module-signing key: Debian's
// linux-source-6.1 compiled with a minimal configuration by the pipeline's
// own kernel build, the certificate reaching the spec from the build's
// module signing (CONFIG_SYSTEM_TRUSTED_KEYS). The three real kmods are
// compiled against its kernel-devel and signed in their builds; the boot
// gate boots the kernel with module.sig_enforce=1 and the kernel loads every
// one, so the release publishes. The same published kernel then refuses, in
// QEMU, an unsigned module and a tampered one (and one signed with a key it
// does not trust), each with EKEYREJECTED and its own message.
//
// The kernel compile takes long (see the README's Secure Boot section), so
// its build is cached between runs under the user cache dir, keyed by the
// source package's contents and the certificate (kftest.CachingBuilder),
// and the key is a test key kept there too (kftest.ModuleKey).
func TestSourceKernelBootGateEnforcesSignatures(t *testing.T) {
	qemu := testutil.RequireTool(t, "qemu-system-x86_64")
	k := kftest.SourceKernel(t)
	key := kftest.ModuleKey(t)
	builder := &kftest.CachingBuilder{Builder: kftest.SourceKernelBuilder(t), Cache: kftest.IsSourceKernel, Log: t.Logf}
	p := newPipeline(t, pipelineSetup{builder: builder, name: "rpmbuild", version: k.Source.Version(),
		build: 120 * time.Minute, moduleKey: key, boot: true})
	enforce := []string{"module.sig_enforce=1"}
	p.plan.Arches[0].Boot = &pipeline.BootVM{Queue: p.plan.Arches[0].Queue, QEMU: qemu, TimeLimit: 2 * time.Minute, Args: enforce}
	nvr := k.NVR(".el8")
	for _, name := range demo.RealKmodNames() {
		p.plan.Kmods = append(p.plan.Kmods, pipeline.KmodSpec{Name: name, Package: "kmod-" + name, Source: "upstream"})
		if _, err := demo.RealKmodSRPM(p.upstream, name, nvr, "1"); err != nil {
			t.Fatal(err)
		}
	}
	srpm := kftest.SourceKernelSRPM(t, k)
	if err := os.Link(srpm, filepath.Join(p.upstream, filepath.Base(srpm))); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	if res := p.watch(); !slices.Equal(res.Started, []string{"kernel/" + nvr}) {
		t.Fatalf("watch %+v", res)
	}
	if res := p.result(nvr); res.Stage != pipeline.StagePublished || len(res.Excluded) != 0 {
		t.Fatalf("%s: %+v", nvr, res)
	}
	t.Logf("%s: published in %v (kernel package build %v)", nvr, time.Since(start).Round(time.Second),
		p.activityTime("build/kernel-"+nvr+"/x86_64", "Build").Round(time.Second))
	st := p.status(nvr)
	if b := st.Boot["x86_64"]; b.State != workflows.BootPassed {
		t.Errorf("boot gate: %+v", b)
	}
	for _, name := range demo.RealKmodNames() {
		if u := st.Kmods[name]; u.State != pipeline.StateRebuilt || !strings.Contains(u.Reason, "boot-tested on x86_64") {
			t.Errorf("kmod %s: %+v, want rebuilt and loaded by the enforcing kernel", name, u)
		}
	}

	// The published kernel, booted with the published modules: signed ones
	// load; unsigned, tampered and foreign-signed ones are refused.
	work := t.TempDir()
	vmlinuz, kos := p.publishedBoot(nvr, work)
	bad := badModules(t, work, kos, key)
	cfg := boot.Config{QEMU: qemu, Timeout: 2 * time.Minute, Init: bootInit(t)}
	kfcount := boot.Module{Name: "kfcount", Path: kos["kfcount"]}
	res := bootModules(t, cfg, vmlinuz, enforce, kfcount, bad["unsigned"], bad["tampered"])
	for _, c := range []struct {
		name, why, msg string
	}{
		{"kfcount", "signed", ""},
		{"kfwatch", "unsigned", "Loading of unsigned module is rejected"},
		{"kfmisc", "tampered", ""},
	} {
		m, ok := res.Module(c.name)
		switch {
		case !ok:
			t.Errorf("%s (%s): not tried", c.name, c.why)
		case c.why == "signed" && !m.Loaded:
			t.Errorf("%s (signed): refused: %s", c.name, m.Reason())
		case c.why != "signed" && (m.Loaded || m.Errno != errnoEKEYREJECTED || !strings.Contains(strings.Join(m.Messages, "\n"), c.msg)):
			t.Errorf("%s (%s): loaded %v, errno %d, messages %q: want EKEYREJECTED (%d) and %q", c.name, c.why, m.Loaded, m.Errno, m.Messages, errnoEKEYREJECTED, c.msg)
		default:
			t.Logf("sig_enforce=1: %s (%s): loaded %v, %s", c.name, c.why, m.Loaded, m.Reason())
		}
	}
	res = bootModules(t, cfg, vmlinuz, enforce, bad["foreign"])
	if m, _ := res.Module("kfmisc"); m.Loaded || m.Errno != errnoEKEYREJECTED || !strings.Contains(strings.Join(m.Messages, "\n"), "Loading of module with unavailable key is rejected") {
		t.Errorf("kfmisc signed with another key: %+v, want refused for its unavailable key", m)
	} else {
		t.Logf("sig_enforce=1: kfmisc (another key): %s", m.Reason())
	}
	// Without enforcement the unsigned module loads (tainting the kernel);
	// a signature that does not verify is refused all the same.
	res = bootModules(t, cfg, vmlinuz, nil, kfcount, bad["unsigned"], bad["tampered"])
	if m, _ := res.Module("kfwatch"); !m.Loaded {
		t.Errorf("unsigned kfwatch without sig_enforce: %s, want loaded", m.Reason())
	}
	if m, _ := res.Module("kfmisc"); m.Loaded || m.Errno != errnoEKEYREJECTED {
		t.Errorf("tampered kfmisc without sig_enforce: %+v, want refused (EKEYREJECTED)", m)
	} else {
		t.Logf("no sig_enforce: kfmisc (tampered): %s", m.Reason())
	}
}

// publishedBoot extracts the kernel image of the published kernel-core of
// vr and the modules of its published kmods (by module name) into dir.
func (p *livePipeline) publishedBoot(vr, dir string) (vmlinuz string, kos map[string]string) {
	p.t.Helper()
	core := p.publishedPackages("kernel-core-uname-r", vr+".x86_64")["kernel-core"]
	if core == "" {
		p.t.Fatalf("no published kernel-core %s", vr)
	}
	vmlinuz = filepath.Join(dir, "vmlinuz-"+vr)
	shell(p.t, `rpm2cpio "$1" | cpio -i --quiet --to-stdout "./lib/modules/$2/vmlinuz" > "$3"`, core, vr+".x86_64", vmlinuz)
	kos = p.publishedKos(vr, dir)
	if len(kos) != len(demo.RealKmodNames()) {
		p.t.Fatalf("published modules for %s: %v", vr, kos)
	}
	return vmlinuz, kos
}

// badModules makes from the published, signed modules: kfwatch with its
// signature removed, kfmisc with one byte of its code changed after
// signing, and kfmisc signed with a key the kernel does not trust.
func badModules(t *testing.T, dir string, kos map[string]string, key *modsign.Key) map[string]boot.Module {
	t.Helper()
	read := func(name string) []byte {
		data, err := os.ReadFile(kos[name])
		if err != nil {
			t.Fatal(err)
		}
		if err := modsign.Verify(data, key.Certificate()); err != nil {
			t.Fatalf("published %s: %v", name, err)
		}
		return data
	}
	write := func(kind, name string, data []byte) boot.Module {
		path := filepath.Join(dir, kind, name+".ko")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return boot.Module{Name: name, Path: path}
	}
	unsigned, err := modsign.Strip(read("kfwatch"))
	if err != nil {
		t.Fatal(err)
	}
	signed := read("kfmisc")
	payload, _, err := modsign.Split(signed)
	if err != nil {
		t.Fatal(err)
	}
	tampered := slices.Clone(signed)
	i := strings.Index(string(payload), "hello from kfmisc")
	if i < 0 {
		t.Fatal("kfmisc: its greeting is not in the module")
	}
	tampered[i] ^= 0x20 // "Hello from kfmisc": the code the kernel would run differs
	if modsign.Verify(tampered, key.Certificate()) == nil {
		t.Fatal("the tampered module still verifies")
	}
	other, err := modsign.Generate("not the repository's key", 2048)
	if err != nil {
		t.Fatal(err)
	}
	foreign, err := other.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	return map[string]boot.Module{
		"unsigned": write("unsigned", "kfwatch", unsigned),
		"tampered": write("tampered", "kfmisc", tampered),
		"foreign":  write("foreign", "kfmisc", foreign),
	}
}

// bootModules boots vmlinuz with args and loads mods in order.
func bootModules(t *testing.T, cfg boot.Config, vmlinuz string, args []string, mods ...boot.Module) *boot.Result {
	t.Helper()
	res, err := boot.Run(context.Background(), cfg, boot.Request{Kernel: vmlinuz, Modules: mods, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Booted {
		t.Fatalf("boot %v: %s\n%s", args, res.Failure, res.Console)
	}
	return res
}

// bootInit builds the boot gate's init once per machine (cached).
func bootInit(t *testing.T) string {
	t.Helper()
	dir, err := os.UserCacheDir()
	if err != nil {
		t.Fatal(err)
	}
	init, err := boot.BuildInit(context.Background(), filepath.Join(dir, "kabiforge", "boot"), "")
	if err != nil {
		t.Fatal(err)
	}
	return init
}
