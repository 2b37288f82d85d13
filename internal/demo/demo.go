// Package demo writes small synthetic kernel and kmod source packages that
// behave like RHEL's for kABI purposes: the demo kernel's kernel-core provides
// kernel(symbol) = 0xCRC generated at build time from its symvers, its
// kernel-devel carries Module.symvers and kernel-abi-stablelists the
// stablelist; the demo kmods are ELRepo-style specs whose
// Requires: kernel(symbol) = 0xCRC come at build time from the Module.symvers
// of the kernel-devel they are built against.
//
// The stablelisted symbols are real: RHEL 8.0's Module.kabi_x86_64 (see
// kabi/ORIGIN.md). The non-stablelisted symbols are synthetic.
package demo

import (
	"bytes"
	_ "embed"
	"fmt"
	"hash/crc32"
	"slices"
	"strings"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

//go:embed kabi/Module.kabi_x86_64-4.18.0-80.el8
var rhel80Kabi []byte

// KernelDevelRootMacro is the macro the demo kmod specs read: the root of an
// unpacked (or installed) kernel-devel, under which
// /usr/src/kernels/<kver>.<arch>/Module.symvers is found. Undefined, it is
// empty, which fits a buildroot where kernel-devel is installed (mock).
const KernelDevelRootMacro = "kernel_devel_root"

// Symbol is one exported kernel symbol, a Module.symvers row.
type Symbol struct {
	Name   string
	CRC    uint32
	Module string // "vmlinux" for the kernel image
	Export string // EXPORT_SYMBOL or EXPORT_SYMBOL_GPL
	// Stablelisted is true for symbols on the kABI stablelist.
	Stablelisted bool
}

// Kernel describes a demo kernel source package.
type Kernel struct {
	// NVR is the kernel's version-release as kmod_kernel_version spells it,
	// e.g. "4.18.0-80.el8"; the package is kernel-<NVR>.
	NVR string
	// Arch is the target architecture, x86_64 when empty.
	Arch string
	// StablelistDir names the folder under /lib/modules holding the
	// stablelist, kabi-rhel80 when empty.
	StablelistDir string
	// Symbols are the kernel's exports, stablelisted or not.
	Symbols []Symbol
	// BuildSeconds makes %build take this long (it sleeps), standing for a
	// real kernel build's duration in tests that disturb a build mid-way;
	// 0 builds at once.
	BuildSeconds int
}

// Kmod describes a demo kmod source package in the ELRepo style.
type Kmod struct {
	// Name is the module name; the package is kmod-<Name>.
	Name    string
	Version string // e.g. "1.0"
	Release string // kmod_rpm_release, e.g. "1"
	// KernelNVR is the kmod_kernel_version the spec is written for.
	KernelNVR string
	// Symbols are the kernel symbols the module uses.
	Symbols []string
	// Overridable makes the spec take kmod_kernel_version and
	// kmod_rpm_release from the command line (--define) when given; otherwise
	// both are hard-coded with %define, as most ELRepo specs do.
	Overridable bool
}

// Names of the demo kmods made by Kmods.
const (
	StableKmod  = "stabledrv"  // uses stablelisted symbols only
	FragileKmod = "fragiledrv" // uses FragileSymbol, which NextKernel changes
	TunableKmod = "tunabledrv" // stablelisted symbols, overridable kernel version
)

// FragileSymbol is the non-stablelisted symbol whose CRC NextKernel changes by
// default, breaking FragileKmod.
const FragileSymbol = "hwmon_device_register_with_info"

// extraSymbols are real vmlinux export names that are not on RHEL 8.0's
// stablelist; their CRCs here are synthetic.
var extraSymbols = []string{
	"misc_register", "misc_deregister", "pci_enable_device", "pci_disable_device",
	FragileSymbol, "i2c_smbus_read_byte_data", "register_netdev", "__dynamic_pr_debug",
}

// BaseKernel returns the demo kernel 4.18.0-80.el8: RHEL 8.0's real
// stablelisted symbols with their real CRCs plus a few synthetic
// non-stablelisted ones.
func BaseKernel() Kernel {
	abi, err := kabi.ParseSymvers(bytes.NewReader(rhel80Kabi), "Module.kabi_x86_64-4.18.0-80.el8")
	if err != nil {
		panic(err) // embedded data, checked by tests
	}
	var syms []Symbol
	for _, s := range abi.Symbols() { // by name, as the file lists them
		syms = append(syms, Symbol{Name: s.Name, CRC: uint32(s.CRC), Module: s.Module, Export: s.Export, Stablelisted: true})
	}
	for _, name := range extraSymbols {
		syms = append(syms, Symbol{Name: name, CRC: crc32.ChecksumIEEE([]byte(name)),
			Module: "vmlinux", Export: "EXPORT_SYMBOL_GPL"})
	}
	return Kernel{NVR: "4.18.0-80.el8", Symbols: syms}
}

// NextKernel returns a copy of prev as kernel nvr with the CRCs of the named
// symbols changed (FragileSymbol when none is named).
func NextKernel(prev Kernel, nvr string, changed ...string) Kernel {
	if len(changed) == 0 {
		changed = []string{FragileSymbol}
	}
	next := prev
	next.NVR = nvr
	next.Symbols = slices.Clone(prev.Symbols)
	for i, s := range next.Symbols {
		if slices.Contains(changed, s.Name) {
			next.Symbols[i].CRC = crc32.ChecksumIEEE([]byte(fmt.Sprintf("%s %08x %s", s.Name, s.CRC, nvr)))
		}
	}
	return next
}

// Kmods returns the three demo kmods written for kernel nvr: StableKmod,
// FragileKmod and TunableKmod.
func Kmods(nvr string) []Kmod {
	return []Kmod{
		{Name: StableKmod, Version: "1.0", Release: "1", KernelNVR: nvr,
			Symbols: []string{"printk", "kfree", "__alloc_skb", "netif_rx"}},
		{Name: FragileKmod, Version: "2.3", Release: "1", KernelNVR: nvr,
			Symbols: []string{"printk", "kfree", FragileSymbol}},
		{Name: TunableKmod, Version: "0.9", Release: "1", KernelNVR: nvr,
			Symbols: []string{"printk", "__alloc_skb"}, Overridable: true},
	}
}

// Symbol returns the named symbol of k.
func (k Kernel) Symbol(name string) (Symbol, bool) {
	for _, s := range k.Symbols {
		if s.Name == name {
			return s, true
		}
	}
	return Symbol{}, false
}

func (k Kernel) arch() string {
	if k.Arch == "" {
		return "x86_64"
	}
	return k.Arch
}

func (k Kernel) stablelistDir() string {
	if k.StablelistDir == "" {
		return "kabi-rhel80"
	}
	return k.StablelistDir
}

// splitNVR splits "4.18.0-80.el8" into version and release.
func splitNVR(nvr string) (version, release string, err error) {
	i := strings.LastIndexByte(nvr, '-')
	if i <= 0 || i == len(nvr)-1 || strings.ContainsAny(nvr, " \t\n") {
		return "", "", fmt.Errorf("kernel NVR %q: want version-release such as 4.18.0-80.el8", nvr)
	}
	return nvr[:i], nvr[i+1:], nil
}

// symvers renders k's Module.symvers.
func (k Kernel) symvers() []byte {
	var b bytes.Buffer
	for _, s := range k.Symbols {
		fmt.Fprintf(&b, "0x%08x\t%s\t%s\t%s\n", s.CRC, s.Name, s.Module, s.Export)
	}
	return b.Bytes()
}

// stablelist renders k's kabi_stablelist_<arch>.
func (k Kernel) stablelist() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "[rhel8_%s_stablelist]\n", k.arch())
	var names []string
	for _, s := range k.Symbols {
		if s.Stablelisted {
			names = append(names, s.Name)
		}
	}
	slices.Sort(names)
	for _, n := range names {
		fmt.Fprintf(&b, "\t%s\n", n)
	}
	return b.Bytes()
}
