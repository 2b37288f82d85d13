//go:build realdemo

package main

import (
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
)

// TestDevDemoRealFamily runs `kabiforge dev --demo` on the real kernel
// family: 6.1.0-47 with the three real kmods compiled, its z-stream rebuild
// 47.1 keeping every kmod (same Module.symvers), then 6.1.0-57, whose
// module_layout CRC differs (read here with awk from both Module.symvers),
// so every kmod is compiled again; the progress lines name each step and
// dnf installs what the banner says.
func TestDevDemoRealFamily(t *testing.T) {
	if testing.Short() {
		t.Skip("three real kernel package builds and six kmod compiles: runs without -short")
	}
	n1, n2 := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	layout := func(symvers string) string {
		out, err := exec.Command("awk", `$2 == "module_layout" {print $1}`, symvers).Output()
		if err != nil || len(out) == 0 {
			t.Fatalf("module_layout in %s: %v", symvers, err)
		}
		return strings.TrimSpace(string(out))
	}
	if layout(n1.Symvers()) == layout(n2.Symvers()) {
		t.Fatal("module_layout has the same CRC in 6.1.0-47 and -57: the demo's ABI bump would break nothing")
	}
	d := startDevDemo(t, "--demo-kernels", "real")
	zs := d.waitPublished(t, "6.1.0-47.1.el8", 20*time.Minute)
	st := d.waitPublished(t, "6.1.0-57.el8", 20*time.Minute)
	for _, name := range demo.RealKmodNames() {
		if !strings.Contains(zs, "kmod "+name+": compatible") {
			t.Errorf("z-stream 6.1.0-47.1.el8 did not keep %s:\n%s", name, zs)
		}
		if !strings.Contains(st, "kmod "+name+": rebuilt") {
			t.Errorf("6.1.0-57.el8 did not rebuild %s:\n%s", name, st)
		}
	}
	out := d.out.String()
	for _, want := range []string{
		"demo: download: kernel 6.1.0-47 ready", "demo: download: kernel 6.1.0-57 ready",
		"demo: kernel package: writing kernel-6.1.0-47.1.el8.src.rpm",
		"demo: kmod compile: kfcount for 6.1.0-47.el8", "demo: kmod compile: kfwatch for 6.1.0-57.el8",
		"demo: 6.1.0-47.1.el8: published (publish: kmods kept [kfcount kfmisc kfwatch], rebuilt [])",
		"demo: 6.1.0-57.el8: published (publish: kmods kept [], rebuilt [kfcount kfmisc kfwatch])",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("progress lacks %q:\n%s", want, out)
		}
	}
	installed := strings.Join(d.installAsBanner(t, "6.1.0-57.el8"), "\n")
	for _, name := range demo.RealKmodNames() {
		if !strings.Contains(installed, "kmod-"+name+"-") {
			t.Errorf("installed:\n%s\nlacks kmod-%s", installed, name)
		}
	}
	d.stopDev(t)
}
