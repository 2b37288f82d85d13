package kabi_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/boot"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// The kernel's own messages (kernel/module/main.c, 6.1) for the refusals
// Check reports besides CRCs, and the errno finit_module returns with each.
var (
	unknownSymbolRE = regexp.MustCompile(`^(\w+): Unknown symbol (\w+) \(err (-?\d+)\)$`)
	namespaceRE     = regexp.MustCompile(`^(\w+): module uses symbol \((\w+)\) from namespace (\w+), but does not import it\.$`)
	vermagicRE      = regexp.MustCompile(`^(\w+): version magic '([^']*)' should be '([^']*)'$`)
	kindErrno       = map[kabi.Kind]int{kabi.KindGPLOnly: 2, kabi.KindNamespace: 22, kabi.KindVermagic: 8}
)

// TestKernelRefusesExactlyWhatCheckReports boots the real 6.1.0-57 kernel
// under QEMU and loads the refused modules and the control: the kernel
// refuses exactly the modules Check refuses, each with the errno and the
// message of the reason Check gives (the symbol, the namespace, the
// vermagic flags), and loads the control.
func TestKernelRefusesExactlyWhatCheckReports(t *testing.T) {
	qemu := testutil.RequireTool(t, "qemu-system-x86_64")
	tree := kftest.Need(t, "6.1.0-57")
	kos := refusedModules(t, tree)
	kernel := realKernel(t, tree)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	init, err := boot.BuildInit(ctx, t.TempDir(), "")
	if err != nil {
		t.Fatal(err)
	}
	var mods []boot.Module
	for name, ko := range kos {
		mods = append(mods, boot.Module{Name: name, Path: ko})
	}
	slices.SortFunc(mods, func(a, b boot.Module) int { return strings.Compare(a.Name, b.Name) })
	res, err := boot.Run(ctx, boot.Config{QEMU: qemu, Init: init, Accel: boot.AccelTCG, Timeout: 3 * time.Minute},
		boot.Request{Kernel: tree.Vmlinuz(), Modules: mods})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Booted || res.Release != tree.Release {
		t.Fatalf("booted %v as %q (%s), want %s:\n%s", res.Booted, res.Release, res.Failure, tree.Release, res.Console)
	}
	t.Logf("boot took %s", res.Elapsed)
	var refusedByKernel, refusedByCheck []string
	for _, m := range mods {
		got, ok := res.Module(m.Name)
		if !ok {
			t.Fatalf("%s: not tried", m.Name)
		}
		v := checkModule(t, kernel, m.Path)
		if !got.Loaded {
			refusedByKernel = append(refusedByKernel, m.Name)
		}
		if !v.Compatible {
			refusedByCheck = append(refusedByCheck, m.Name)
		}
		for _, msg := range kernelReasons(got.Messages) {
			if !explains(v.Refused, msg) {
				t.Errorf("%s: the kernel says %q, the report (%+v) does not", m.Name, msg, v.Refused)
			}
		}
		for _, b := range v.Refused {
			if want := kindErrno[b.Kind]; got.Errno != want || !slices.ContainsFunc(kernelReasons(got.Messages), func(msg string) bool { return explains([]kabi.Break{b}, msg) }) {
				t.Errorf("%s: report %s %s (%s), kernel: errno %d, %q; want errno %d and its message",
					m.Name, b.Kind, b.Name, b.Detail, got.Errno, got.Messages, want)
			}
		}
		t.Logf("%s: kernel %q; report %v", m.Name, got.Reason(), breakList(v))
	}
	if want := []string{"kabi_nongpl", "kabi_nons", "kabi_vermagic"}; !slices.Equal(refusedByKernel, want) || !slices.Equal(refusedByCheck, want) {
		t.Errorf("the kernel refuses %v, Check refuses %v; want both %v (and kabi_good loaded)", refusedByKernel, refusedByCheck, want)
	}
}

// kernelReasons keeps the messages that say why a module was refused.
func kernelReasons(msgs []string) []string {
	var out []string
	for _, m := range msgs {
		if unknownSymbolRE.MatchString(m) || namespaceRE.MatchString(m) || vermagicRE.MatchString(m) {
			out = append(out, m)
		}
	}
	return out
}

// explains reports whether one of the breaks is the reason the kernel's
// message gives: the same module and symbol (and namespace), or the same
// vermagic flags on both sides.
func explains(breaks []kabi.Break, msg string) bool {
	unknown := unknownSymbolRE.FindStringSubmatch(msg) // module, symbol, err
	ns := namespaceRE.FindStringSubmatch(msg)          // module, symbol, namespace
	magic := vermagicRE.FindStringSubmatch(msg)        // module, module's, kernel's
	for _, b := range breaks {
		switch b.Kind {
		case kabi.KindGPLOnly:
			// The loader does not look GPL-only exports up for a
			// proprietary module: the symbol is unknown to it (ENOENT).
			if unknown != nil && unknown[1] == b.Object && unknown[2] == b.Name && unknown[3] == "-2" {
				return true
			}
		case kabi.KindNamespace:
			if ns != nil && ns[1] == b.Object && ns[2] == b.Name && ns[3] == b.Namespace {
				return true
			}
			// The loader then fails the symbol with the namespace's EINVAL.
			if unknown != nil && unknown[1] == b.Object && unknown[2] == b.Name && unknown[3] == "-22" {
				return true
			}
		case kabi.KindVermagic:
			if magic != nil && magic[1] == b.Object && b.Detail == fmt.Sprintf("vermagic flags %s, kernel has %s",
				strconv.Quote(kabi.VermagicFlags(magic[2])), strconv.Quote(kabi.VermagicFlags(magic[3]))) {
				return true
			}
		}
	}
	return false
}

// breakList names a verdict's breaks for the log.
func breakList(v kabi.Verdict) []string {
	var out []string
	for _, b := range v.Breaks() {
		out = append(out, fmt.Sprintf("%s %s %s", b.Object, b.Kind, b.Name))
	}
	return out
}
