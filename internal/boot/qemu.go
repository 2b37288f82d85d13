package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kabiforge/kabiforge/internal/boot/wire"
)

// Accelerators for Config.Accel.
const (
	AccelAuto = "auto" // KVM when a one-time probe boots with it, else TCG
	AccelTCG  = "tcg"
	AccelKVM  = "kvm"
)

// Config says how to run QEMU. The zero value boots x86_64 under TCG with
// 512 MiB and a 60 s time limit; Init must be set (see BuildInit).
type Config struct {
	// QEMU is the emulator binary (default qemu-system-x86_64).
	QEMU string
	// Machine is QEMU's -machine value, empty for its default.
	Machine string
	// MemoryMiB is the VM's memory (default 512).
	MemoryMiB int
	// Timeout is the hard limit of one boot, after which QEMU's process
	// group is killed (default 60 s).
	Timeout time.Duration
	// Accel is AccelTCG (default), AccelKVM or AccelAuto.
	Accel string
	// Probe remembers AccelAuto's KVM probe; share one per process. Nil
	// probes on every Run.
	Probe *KVMProbe
	// Console is the kernel's console device (default ttyS0). Results go to
	// the second serial port, ttyS1.
	Console string
	// Args are extra kernel arguments for every boot.
	Args []string
	// Init is the path of the static init binary (see BuildInit).
	Init string
}

func (c Config) withDefaults() Config {
	if c.QEMU == "" {
		c.QEMU = "qemu-system-x86_64"
	}
	if c.MemoryMiB == 0 {
		c.MemoryMiB = 512
	}
	if c.Timeout == 0 {
		c.Timeout = 60 * time.Second
	}
	if c.Accel == "" {
		c.Accel = AccelTCG
	}
	if c.Console == "" {
		c.Console = "ttyS0"
	}
	return c
}

// KVMProbe decides once whether KVM works on this host, by booting a kernel
// with it under a short time limit (nested KVM can fail with an emulation
// error and then hang instead of exiting).
type KVMProbe struct {
	once sync.Once
	ok   bool
}

// probeTimeout bounds the KVM probe boot.
const probeTimeout = 20 * time.Second

func (c Config) accel(ctx context.Context, kernel string) (string, error) {
	switch c.Accel {
	case AccelTCG, AccelKVM:
		return c.Accel, nil
	case AccelAuto:
	default:
		return "", fmt.Errorf("%w: accelerator %q (want auto, tcg or kvm)", ErrInput, c.Accel)
	}
	p := c.Probe
	if p == nil {
		p = &KVMProbe{}
	}
	p.once.Do(func() {
		f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
		if err != nil {
			return
		}
		f.Close()
		pc := c
		pc.Accel, pc.Timeout = AccelKVM, min(c.Timeout, probeTimeout)
		res, err := Run(ctx, pc, Request{Kernel: kernel})
		p.ok = err == nil && res.Booted
	})
	if p.ok {
		return AccelKVM, nil
	}
	return AccelTCG, nil
}

// runQEMU boots once; the console goes to ttyS0's file, the init's results
// to ttyS1's.
func runQEMU(ctx context.Context, cfg Config, accel, kernel, initrd string, args []string, dir string) (*Result, error) {
	console, channel := filepath.Join(dir, "console.log"), filepath.Join(dir, "results.log")
	for _, p := range []string{console, channel} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			return nil, err
		}
	}
	cmdline := append([]string{"console=" + cfg.Console, "panic=-1", "kabiforge.out=/dev/ttyS1"}, cfg.Args...)
	cmdline = append(cmdline, args...)
	argv := []string{
		"-accel", accel, "-m", strconv.Itoa(cfg.MemoryMiB), "-smp", "1",
		"-display", "none", "-nodefaults", "-no-user-config", "-no-reboot", "-monitor", "none",
		"-serial", "file:" + console, "-serial", "file:" + channel,
		"-kernel", kernel, "-initrd", initrd, "-append", strings.Join(cmdline, " "),
	}
	if cfg.Machine != "" {
		argv = append(argv, "-machine", cfg.Machine)
	}
	tctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	cmd := exec.CommandContext(tctx, cfg.QEMU, argv...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cfg.QEMU, err)
	}
	waitErr := cmd.Wait()
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // anything the group left behind
	elapsed := time.Since(start)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("boot %s: %w", kernel, ctx.Err())
	}
	res, err := readResults(channel)
	if err != nil {
		return nil, err
	}
	res.Accel, res.Elapsed = accel, elapsed
	res.Console, _ = os.ReadFile(console)
	switch {
	case res.Booted:
	case errors.Is(tctx.Err(), context.DeadlineExceeded):
		res.Failure = fmt.Sprintf("no result within the %s time limit; QEMU killed", cfg.Timeout)
	case waitErr != nil:
		res.Failure = fmt.Sprintf("%s: %v: %s", cfg.QEMU, waitErr, lastLine(stderr.String()))
	default:
		res.Failure = "the VM powered off before the init finished: " + lastLine(string(res.Console))
	}
	return res, nil
}

func readResults(path string) (*Result, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	lines, done, err := wire.Parse(f)
	if err != nil {
		return nil, err
	}
	return results(lines, done), nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[i+1:]
	}
	return strings.TrimSpace(s)
}
