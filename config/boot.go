package config

import (
	"cmp"
	"fmt"
	"slices"
	"time"
)

// Boot test switch values (Arch.BootTest).
const (
	BootTestOn  = "on"
	BootTestOff = "off"
)

// Accelerators of a boot test VM (Boot.Accel).
const (
	AccelAuto = "auto" // KVM when a one-time probe boots with it, else TCG
	AccelTCG  = "tcg"
)

// Boot is how an arch's kernels are booted to prove they load their kmods.
type Boot struct {
	// Queue is the task queue of the hosts that boot this arch's kernels
	// (they need qemu-system-<arch>). Default boot-<arch>.
	Queue string `yaml:"queue"`
	// QEMU is the emulator binary. Default qemu-system-<arch>.
	QEMU string `yaml:"qemu"`
	// MemoryMiB is the VM's memory. Default 512.
	MemoryMiB int `yaml:"memory_mib"`
	// TimeLimit is the hard limit of one boot; QEMU is killed after it. Default 60s.
	TimeLimit time.Duration `yaml:"time_limit"`
	// Accel is auto (probe KVM once, else TCG) or tcg. Default tcg.
	Accel string `yaml:"accel"`
	// KernelArgs are extra kernel arguments, e.g. module.sig_enforce=1.
	KernelArgs []string `yaml:"kernel_args"`
}

// bootDefaults fills in the boot settings left out.
func (a *Arch) bootDefaults() {
	b := &a.Boot
	if a.BootTest == "" {
		a.BootTest = BootTestOff
	}
	if a.Name != "" {
		b.Queue = cmp.Or(b.Queue, "boot-"+a.Name)
		b.QEMU = cmp.Or(b.QEMU, "qemu-system-"+a.Name)
	}
	b.MemoryMiB = cmp.Or(b.MemoryMiB, 512)
	b.TimeLimit = cmp.Or(b.TimeLimit, time.Minute)
	b.Accel = cmp.Or(b.Accel, AccelTCG)
	if b.KernelArgs == nil {
		b.KernelArgs = []string{}
	}
}

// BootTested reports whether the arch's kernels are boot-tested.
func (a Arch) BootTested() bool { return a.BootTest == BootTestOn }

func validateBoot(ps *problems, p string, a Arch) {
	if !slices.Contains([]string{"", BootTestOn, BootTestOff}, a.BootTest) {
		ps.add(p+".boot_test", "%q; use on or off", a.BootTest)
	}
	b := a.Boot
	if b.Accel != "" && b.Accel != AccelAuto && b.Accel != AccelTCG {
		ps.add(p+".boot.accel", "%q; use %s", b.Accel, oneOf(AccelAuto, AccelTCG))
	}
	if b.MemoryMiB < 0 || (b.MemoryMiB > 0 && b.MemoryMiB < 128) {
		ps.add(p+".boot.memory_mib", "%d MiB; a kernel needs at least 128", b.MemoryMiB)
	}
	if b.TimeLimit < 0 || (b.TimeLimit > 0 && b.TimeLimit < 5*time.Second) {
		ps.add(p+".boot.time_limit", "%s; allow a boot at least 5s", b.TimeLimit)
	}
	for i, arg := range b.KernelArgs {
		if arg == "" || containsSpace(arg) {
			ps.add(fmt.Sprintf("%s.boot.kernel_args[%d]", p, i), "%q; give one argument per item, without spaces", arg)
		}
	}
}

func containsSpace(s string) bool {
	for _, r := range s {
		if r == ' ' || r == '\t' || r == '\n' {
			return true
		}
	}
	return false
}
