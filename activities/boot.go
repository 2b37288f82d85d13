package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/kabiforge/kabiforge/internal/boot"
	"github.com/kabiforge/kabiforge/pipeline"
)

// BootEnv is what a boot worker brings: the init binary and the KVM probe
// shared by its boots.
type BootEnv struct {
	// Init is the static init binary; "" builds it once (boot.BuildInit).
	Init  string
	Probe boot.KVMProbe
	once  sync.Once
	err   error
}

func (e *BootEnv) init(ctx context.Context, cacheDir string) (string, error) {
	e.once.Do(func() {
		if e.Init == "" {
			e.Init, e.err = boot.BuildInit(ctx, cacheDir, "")
		}
	})
	return e.Init, e.err
}

// BootTest boots the kernel's vmlinuz under QEMU with an initramfs holding
// the in-tree modules the kmods depend on and the kmods' modules, loads them
// in dependency order and returns per kmod whether the kernel loaded it,
// with the kernel's own messages. A kernel that does not finish booting is
// an output with Booted false, not an error; bad packages are
// non-retryable errors.
func (a *Activities) BootTest(ctx context.Context, in pipeline.BootInput) (pipeline.BootOutput, error) {
	if a.Boot == nil {
		return pipeline.BootOutput{}, badInput(fmt.Errorf("this worker does not boot-test kernels (no boot environment)"))
	}
	dir, done, err := a.tempDir("boot")
	if err != nil {
		return pipeline.BootOutput{}, err
	}
	defer done()
	initBin, err := a.Boot.init(ctx, bootCacheDir())
	if err != nil {
		return pipeline.BootOutput{}, infra("boot init", err)
	}
	prep, err := a.prepareBoot(ctx, in, dir)
	if err != nil {
		return pipeline.BootOutput{}, err
	}
	hb := newHeartbeater(ctx)
	hb.line("booting " + in.KernelNVR + " on " + in.Arch)
	stop := hb.run()
	start := time.Now()
	res, err := boot.Run(ctx, a.bootConfig(in, initBin), prep.Request)
	stop()
	if a.Metrics != nil {
		a.Metrics.BootDone(in.Arch, bootOutcome(res, err), time.Since(start))
	}
	if errors.Is(err, boot.ErrInput) {
		return pipeline.BootOutput{}, badInput(err)
	}
	if err != nil {
		return pipeline.BootOutput{}, infra("boot "+in.KernelNVR, err)
	}
	out := pipeline.BootOutput{Booted: res.Booted, Failure: res.Failure, Release: res.Release, Accel: res.Accel, Elapsed: res.Elapsed}
	for _, k := range prep.KmodResults(res) {
		bk := pipeline.BootKmod{Name: k.Name, Loaded: k.Loaded && res.Booted, Reason: k.Reason}
		for _, m := range k.Modules {
			bk.Modules = append(bk.Modules, pipeline.BootModule{Name: m.Name, Loaded: m.Loaded, Errno: m.Errno, Messages: m.Messages})
		}
		out.Kmods = append(out.Kmods, bk)
	}
	base := "boot-" + in.KernelNVR + "." + in.Arch
	if out.Log, err = putBytes(ctx, a.Artifacts, KindLog, base+".log", res.Console); err != nil {
		return pipeline.BootOutput{}, err
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return pipeline.BootOutput{}, fmt.Errorf("encode boot report: %w", err)
	}
	if out.Report, err = putBytes(ctx, a.Artifacts, KindReport, base+".json", data); err != nil {
		return pipeline.BootOutput{}, err
	}
	return out, nil
}

// prepareBoot fetches the packages and extracts what the VM needs.
func (a *Activities) prepareBoot(ctx context.Context, in pipeline.BootInput, dir string) (*boot.Prepared, error) {
	kdir := filepath.Join(dir, "rpms", "kernel")
	if err := mkdir(kdir); err != nil {
		return nil, err
	}
	kernel, err := getFiles(ctx, a.Artifacts, in.Kernel, kdir)
	if err != nil {
		return nil, err
	}
	kmods := map[string][]string{}
	for i, name := range sortedKeys(in.Kmods) {
		d := filepath.Join(dir, "rpms", fmt.Sprint("kmod", i))
		if err := mkdir(d); err != nil {
			return nil, err
		}
		if kmods[name], err = getFiles(ctx, a.Artifacts, in.Kmods[name], d); err != nil {
			return nil, err
		}
	}
	prep, err := boot.Prepare(kernel, kmods, filepath.Join(dir, "tree"))
	if err != nil {
		return nil, badInput(err)
	}
	return prep, nil
}

func (a *Activities) bootConfig(in pipeline.BootInput, initBin string) boot.Config {
	vm := in.VM
	qemu := vm.QEMU
	if qemu == "" {
		qemu = "qemu-system-" + in.Arch
	}
	return boot.Config{QEMU: qemu, MemoryMiB: vm.MemoryMiB, Timeout: vm.TimeLimit, Accel: vm.Accel,
		Probe: &a.Boot.Probe, Args: vm.Args, Init: initBin}
}

// bootCacheDir is where a built init binary is kept between runs.
func bootCacheDir() string {
	if d, err := os.UserCacheDir(); err == nil {
		return filepath.Join(d, "kabiforge", "boot")
	}
	return filepath.Join(os.TempDir(), "kabiforge-boot")
}

// bootOutcome names how a boot ended, for metrics.
func bootOutcome(res *boot.Result, err error) string {
	switch {
	case err != nil:
		return "error"
	case !res.Booted:
		return "no-boot"
	}
	for _, m := range res.Modules {
		if !m.Loaded {
			return "refused"
		}
	}
	return "ok"
}
