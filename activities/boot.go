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
)

// BootQueuePrefix starts the default task queue of an arch's boot tests,
// served by hosts that have its qemu-system binary.
const BootQueuePrefix = "boot-"

// BootVM is how one arch's kernels are booted; the workflow carries it from
// the configuration to the BootTest activity.
type BootVM struct {
	// Queue is the task queue of the boot workers, default boot-<arch>.
	Queue string `json:"queue"`
	// QEMU is the emulator binary, default qemu-system-<arch>.
	QEMU string `json:"qemu,omitempty"`
	// MemoryMiB is the VM's memory, default 512.
	MemoryMiB int `json:"memory_mib,omitempty"`
	// TimeLimit is the hard limit of one boot, default 60s.
	TimeLimit time.Duration `json:"time_limit,omitempty"`
	// Accel is auto or tcg (default).
	Accel string `json:"accel,omitempty"`
	// Args are extra kernel arguments, e.g. module.sig_enforce=1.
	Args []string `json:"args,omitempty"`
}

// BootInput asks for a kernel to be booted with kmods to load.
type BootInput struct {
	KernelNVR string     `json:"kernel_nvr"`
	Arch      string     `json:"arch"`
	Kernel    []Artifact `json:"kernel"`
	// Kmods maps a kmod name to its packages.
	Kmods map[string][]Artifact `json:"kmods"`
	VM    BootVM                `json:"vm"`
}

// BootOutput is what the kernel did with the kmods.
type BootOutput struct {
	// Booted reports that the VM ran the init to its end.
	Booted bool `json:"booted"`
	// Failure says why it did not (time limit, early power-off).
	Failure string        `json:"failure,omitempty"`
	Release string        `json:"release,omitempty"`
	Accel   string        `json:"accel,omitempty"`
	Elapsed time.Duration `json:"elapsed"`
	Kmods   []BootKmod    `json:"kmods"`
	// Log is the VM's console log; Report the results as JSON.
	Log    Artifact `json:"log"`
	Report Artifact `json:"report"`
}

// BootKmod is one kmod's result.
type BootKmod struct {
	Name   string `json:"name"`
	Loaded bool   `json:"loaded"`
	// Reason is the kernel's message about the first module it refused.
	Reason  string       `json:"reason,omitempty"`
	Modules []BootModule `json:"modules"`
}

// BootModule is the kernel's answer to loading one module.
type BootModule struct {
	Name     string   `json:"name"`
	Loaded   bool     `json:"loaded"`
	Errno    int      `json:"errno"`
	Messages []string `json:"messages,omitempty"`
}

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
func (a *Activities) BootTest(ctx context.Context, in BootInput) (BootOutput, error) {
	if a.Boot == nil {
		return BootOutput{}, badInput(fmt.Errorf("this worker does not boot-test kernels (no boot environment)"))
	}
	dir, done, err := a.tempDir("boot")
	if err != nil {
		return BootOutput{}, err
	}
	defer done()
	initBin, err := a.Boot.init(ctx, bootCacheDir())
	if err != nil {
		return BootOutput{}, infra("boot init", err)
	}
	prep, err := a.prepareBoot(ctx, in, dir)
	if err != nil {
		return BootOutput{}, err
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
		return BootOutput{}, badInput(err)
	}
	if err != nil {
		return BootOutput{}, infra("boot "+in.KernelNVR, err)
	}
	out := BootOutput{Booted: res.Booted, Failure: res.Failure, Release: res.Release, Accel: res.Accel, Elapsed: res.Elapsed}
	for _, k := range prep.KmodResults(res) {
		bk := BootKmod{Name: k.Name, Loaded: k.Loaded && res.Booted, Reason: k.Reason}
		for _, m := range k.Modules {
			bk.Modules = append(bk.Modules, BootModule{Name: m.Name, Loaded: m.Loaded, Errno: m.Errno, Messages: m.Messages})
		}
		out.Kmods = append(out.Kmods, bk)
	}
	base := "boot-" + in.KernelNVR + "." + in.Arch
	if out.Log, err = putBytes(ctx, a.Artifacts, KindLog, base+".log", res.Console); err != nil {
		return BootOutput{}, err
	}
	data, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return BootOutput{}, fmt.Errorf("encode boot report: %w", err)
	}
	if out.Report, err = putBytes(ctx, a.Artifacts, KindReport, base+".json", data); err != nil {
		return BootOutput{}, err
	}
	return out, nil
}

// prepareBoot fetches the packages and extracts what the VM needs.
func (a *Activities) prepareBoot(ctx context.Context, in BootInput, dir string) (*boot.Prepared, error) {
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

func (a *Activities) bootConfig(in BootInput, initBin string) boot.Config {
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
