// Package boot proves that a kernel loads a set of modules by booting it
// under QEMU with an initramfs holding the project's own /init
// (internal/boot/init) and the modules, and reading back, per module, the
// errno of finit_module and the kernel's own messages about the load.
//
// The whole API is Run (one boot), Config (how to run QEMU), Request (what
// to boot) and Result. Callers that start from packages use Order to put
// modules after their dependencies and ModInfo to read a .ko's name and
// dependencies.
package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/internal/boot/wire"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// Module is one kernel module to load.
type Module struct {
	// Name is the module's name as the kernel knows it (hello for hello.ko).
	Name string
	// Path is the module file on the host; .ko.xz, .ko.zst and .ko.gz are
	// decompressed into the initramfs.
	Path string
}

// Request is one boot: a kernel and the modules to load, in order.
type Request struct {
	// Kernel is the path of the kernel image (vmlinuz).
	Kernel string
	// Modules are loaded in this order: dependencies first (see Order).
	Modules []Module
	// Args are extra kernel arguments for this boot only, after
	// Config.Args (e.g. module.sig_enforce=1).
	Args []string
	// Dir, when set, keeps the initramfs and the console log there;
	// otherwise a temporary directory is used and removed.
	Dir string
}

// Result is what one boot showed.
type Result struct {
	// Booted reports that the init ran to its end: every module was tried.
	Booted bool
	// Failure says why the boot did not finish (Booted false): killed at
	// the time limit, or QEMU exited early.
	Failure string
	// Release is the running kernel's release (uname -r).
	Release string
	// Accel is the accelerator used: tcg or kvm.
	Accel string
	// Modules has one entry per module tried, in load order.
	Modules []ModuleResult
	// Console is the VM's console output (kernel log, firmware).
	Console []byte
	// Elapsed is the time QEMU ran.
	Elapsed time.Duration
}

// ModuleResult is the kernel's answer to loading one module.
type ModuleResult struct {
	Name string `json:"name"`
	// Loaded reports that finit_module succeeded (errno 0).
	Loaded bool `json:"loaded"`
	// Errno is finit_module's errno (8 ENOEXEC, 22 EINVAL, 129 EKEYREJECTED…).
	Errno int `json:"errno"`
	// Error is the errno's text.
	Error string `json:"error,omitempty"`
	// Messages are the kernel's /dev/kmsg messages during the load.
	Messages []string `json:"messages,omitempty"`
}

// Reason is the kernel's own word on a refused module: its messages joined,
// or the errno's text when it logged none. It is empty for a loaded module.
func (m ModuleResult) Reason() string {
	if m.Loaded {
		return ""
	}
	var msgs []string
	for _, s := range m.Messages {
		if !strings.Contains(s, "taints kernel") && !strings.Contains(s, "module verification failed") {
			msgs = append(msgs, s)
		}
	}
	if len(msgs) == 0 {
		return fmt.Sprintf("errno %d (%s)", m.Errno, m.Error)
	}
	return fmt.Sprintf("%s (errno %d)", strings.Join(msgs, "; "), m.Errno)
}

// Module returns the result for the named module.
func (r *Result) Module(name string) (ModuleResult, bool) {
	for _, m := range r.Modules {
		if m.Name == name {
			return m, true
		}
	}
	return ModuleResult{}, false
}

// ErrInput marks a request that can never boot (a missing kernel or module,
// an unreadable init binary, a duplicate module name).
var ErrInput = errors.New("bad boot request")

// Run boots req.Kernel under QEMU and loads req.Modules. It returns an error
// for bad input (wrapping ErrInput), when QEMU cannot start, or when ctx ends;
// a kernel that does not reach the end of the init is a Result with Booted
// false and a Failure. QEMU runs in its own process group, killed as a whole
// at the time limit or when ctx ends.
func Run(ctx context.Context, cfg Config, req Request) (*Result, error) {
	cfg = cfg.withDefaults()
	if err := checkInput(cfg, req); err != nil {
		return nil, err
	}
	dir := req.Dir
	if dir == "" {
		tmp, err := os.MkdirTemp("", "kabiforge-boot-")
		if err != nil {
			return nil, err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	initrd := filepath.Join(dir, "initrd.gz")
	if err := writeInitrd(initrd, cfg.Init, req.Modules); err != nil {
		return nil, err
	}
	accel, err := cfg.accel(ctx, req.Kernel)
	if err != nil {
		return nil, err
	}
	res, err := runQEMU(ctx, cfg, accel, req.Kernel, initrd, req.Args, dir)
	if err != nil {
		return nil, err
	}
	return res, nil
}

func checkInput(cfg Config, req Request) error {
	if _, err := os.Stat(req.Kernel); err != nil {
		return fmt.Errorf("%w: kernel image: %v", ErrInput, err)
	}
	if cfg.Init == "" {
		return fmt.Errorf("%w: no init binary configured (see BuildInit)", ErrInput)
	}
	seen := map[string]bool{}
	for _, m := range req.Modules {
		if m.Name == "" || strings.ContainsAny(m.Name, "\t\n/") {
			return fmt.Errorf("%w: module %q: bad name", ErrInput, m.Name)
		}
		if seen[m.Name] {
			return fmt.Errorf("%w: module %s listed twice (the kernel would answer EEXIST)", ErrInput, m.Name)
		}
		seen[m.Name] = true
	}
	return nil
}

// writeInitrd writes the initramfs: /init, the modules under /modules and
// /modules.list naming them in order.
func writeInitrd(path, initBin string, mods []Module) error {
	initData, err := os.ReadFile(initBin)
	if err != nil {
		return fmt.Errorf("%w: init binary: %v", ErrInput, err)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	a := NewInitramfs(f)
	for _, d := range []string{"dev", "proc", "sys", "modules"} {
		_ = a.Dir(d, 0o755)
	}
	_ = a.CharDev("dev/console", 0o600, 5, 1)
	_ = a.File("init", 0o755, initData)
	var list bytes.Buffer
	for i, m := range mods {
		data, err := readModule(m.Path)
		if err != nil {
			return fmt.Errorf("%w: module %s: %v", ErrInput, m.Name, err)
		}
		p := fmt.Sprintf("/modules/%03d-%s.ko", i, m.Name)
		_ = a.File(p, 0o644, data)
		fmt.Fprintf(&list, "%s\t%s\n", m.Name, p)
	}
	_ = a.File("modules.list", 0o644, list.Bytes())
	if err := a.Close(); err != nil {
		return err
	}
	return f.Close()
}

func readModule(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return kabi.ReadModuleData(f, path)
}

// results turns the result channel's lines into a Result.
func results(lines []wire.Line, done bool) *Result {
	r := &Result{Booted: done}
	for _, l := range lines {
		switch l.Kind {
		case wire.KindStart:
			r.Release = l.Release
		case wire.KindModule:
			r.Modules = append(r.Modules, ModuleResult{
				Name: l.Module, Loaded: l.Errno == 0, Errno: l.Errno, Error: l.Error, Messages: l.Kmsg,
			})
		}
	}
	return r
}
