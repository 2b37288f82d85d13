package publish

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// kernelSpec is a synthetic kernel source package: kernel, kernel-core
// (providing kernel(foo) = fooCRC and kernel(bar) = 0xcccc0003) and
// kernel-devel, release rel.
func kernelSpec(rel int, fooCRC string) string {
	return fmt.Sprintf(`Name: kernel
Version: 4.18.0
Release: %d.el8
Summary: test kernel
License: GPLv2
AutoReqProv: no

%%description
A synthetic kernel.

%%package core
Summary: core
Provides: kernel(foo) = %s
Provides: kernel(bar) = 0xcccc0003
%%description core
core

%%package devel
Summary: devel
%%description devel
devel

%%install
mkdir -p %%{buildroot}/lib/modules/4.18.0-%[1]d %%{buildroot}/usr/src/kernels/4.18.0-%[1]d %%{buildroot}/boot
echo vmlinuz > %%{buildroot}/lib/modules/4.18.0-%[1]d/vmlinuz
echo symvers > %%{buildroot}/usr/src/kernels/4.18.0-%[1]d/Module.symvers
echo config > %%{buildroot}/boot/config-4.18.0-%[1]d

%%files
/boot/config-4.18.0-%[1]d
%%files core
/lib/modules/4.18.0-%[1]d/vmlinuz
%%files devel
/usr/src/kernels/4.18.0-%[1]d/Module.symvers
`, rel, fooCRC)
}

// kmodSpec is a kmod package kmod-<name>-1-<rel> requiring the given
// kernel(...) symbols.
func kmodSpec(name string, rel int, requires ...string) string {
	reqs := ""
	for _, r := range requires {
		reqs += "Requires: " + r + "\n"
	}
	return fmt.Sprintf(`Name: kmod-%s
Version: 1
Release: %d
Summary: test kmod
License: GPLv2
AutoReqProv: no
%s
%%description
A synthetic kmod.

%%install
mkdir -p %%{buildroot}/lib/modules/extra/%[1]s-%[2]d
echo ko > %%{buildroot}/lib/modules/extra/%[1]s-%[2]d/%[1]s.ko

%%files
/lib/modules/extra/%[1]s-%[2]d/%[1]s.ko
`, name, rel, reqs)
}

// Publishing 5 kernels with 3 kept: once the window has passed, the two
// oldest kernels and only the kmods no kept kernel satisfies are gone, and
// dnf resolves every kept kmod.
func TestRetentionKeepsNewestKernelsAndNeededKmods(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	const fooA, fooB, bar = "0xaaaa0001", "0xbbbb0002", "0xcccc0003"
	kernels := make([][]string, 6)
	for rel := 1; rel <= 5; rel++ {
		crc := fooA
		if rel >= 3 {
			crc = fooB
		}
		kernels[rel] = testutil.RPMBuild(t, kernelSpec(rel, crc))
	}
	kmodX1 := testutil.RPMBuild(t, kmodSpec("x", 1, "kernel(foo) = "+fooA))                       // built for kernel 1
	kmodZ2 := testutil.RPMBuild(t, kmodSpec("z", 2, "kernel(foo) = "+fooA))                       // built for kernel 2
	kmodY1 := testutil.RPMBuild(t, kmodSpec("y", 1, "kernel(bar) = "+bar))                        // built for 1, kABI-stable
	kmodX3 := testutil.RPMBuild(t, kmodSpec("x", 3, "kernel(foo) = "+fooB, "kernel(bar) = "+bar)) // built for 3

	dir := t.TempDir()
	s := dirStore(t, dir)
	clk := newClock()
	p := newPublisher(t, s, Config{Now: clk.Now, SignPackages: true, Window: time.Hour, Retention: Retention{Kernels: 3}})
	steps := [][]string{
		slices.Concat(kernels[1], kmodX1, kmodY1),
		slices.Concat(kernels[2], kmodZ2),
		slices.Concat(kernels[3], kmodX3),
		kernels[4],
		kernels[5],
	}
	var dropped []string
	for _, add := range steps {
		res := mustPublish(t, p, ChangeSet{Add: add})
		dropped = append(dropped, res.Dropped...)
		clk.Advance(time.Minute)
	}
	kr := signer(t).Key().Keyring()
	view, err := fetch(storeGetter(s), kr, true)
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for rel := 3; rel <= 5; rel++ {
		for _, n := range []string{"kernel", "kernel-core", "kernel-devel"} {
			want = append(want, fmt.Sprintf("%s-4.18.0-%d.el8.x86_64", n, rel))
		}
	}
	want = append(want, "kmod-x-1-3.x86_64", "kmod-y-1-1.x86_64")
	slices.Sort(want)
	if !slices.Equal(view.packages, want) {
		t.Fatalf("repository lists\n%v\nwant\n%v", view.packages, want)
	}
	slices.Sort(dropped)
	wantDropped := []string{"kernel-4.18.0-1.el8.x86_64", "kernel-4.18.0-2.el8.x86_64", "kernel-core-4.18.0-1.el8.x86_64",
		"kernel-core-4.18.0-2.el8.x86_64", "kernel-devel-4.18.0-1.el8.x86_64", "kernel-devel-4.18.0-2.el8.x86_64",
		"kmod-x-1-1.x86_64", "kmod-z-1-2.x86_64"}
	if !slices.Equal(dropped, wantDropped) {
		t.Errorf("dropped %v, want %v", dropped, wantDropped)
	}
	gone := []string{"kernel-4.18.0-1.el8", "kernel-core-4.18.0-2.el8", "kmod-x-1-1.", "kmod-z-1-2."}
	for _, g := range gone {
		if len(packageKeys(t, s, g)) == 0 {
			t.Errorf("%s deleted within the window", g)
		}
	}

	clk.Advance(2 * time.Hour)
	n, err := p.Cleanup(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("cleanup deleted %d files", n)
	for _, g := range gone {
		if keys := packageKeys(t, s, g); len(keys) != 0 {
			t.Errorf("%s still stored after the window: %v", g, keys)
		}
	}
	var stored []string
	for info, err := range s.List(context.Background(), "Packages/") {
		if err != nil {
			t.Fatal(err)
		}
		stored = append(stored, strings.TrimSuffix(info.Key[strings.LastIndexByte(info.Key, '/')+1:], ".rpm"))
	}
	slices.Sort(stored)
	if !slices.Equal(stored, want) {
		t.Errorf("stored packages\n%v\nwant\n%v", stored, want)
	}
	if _, err := fetch(storeGetter(s), kr, true); err != nil {
		t.Fatalf("after cleanup: %v", err)
	}
	for kmod, nevra := range map[string]string{"kmod-x": "kmod-x-1-3.x86_64", "kmod-y": "kmod-y-1-1.x86_64"} {
		installed := dnfInstall(t, dir, kmod)
		if !slices.Contains(installed, nevra) || !slices.ContainsFunc(installed, func(n string) bool {
			return strings.HasPrefix(n, "kernel-core-4.18.0-") && slices.Contains(want, n)
		}) {
			t.Errorf("dnf install %s installed %v, want %s and a kept kernel-core", kmod, installed, nevra)
		}
	}
}
