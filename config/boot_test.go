package config

import (
	"slices"
	"testing"
	"time"
)

func TestBootSettings(t *testing.T) {
	dir := t.TempDir()
	cfg, ps := parse(t, dir, `
arches:
  - name: x86_64
    boot_test: on
    boot: {accel: auto, time_limit: 20s, kernel_args: [module.sig_enforce=1]}
  - name: aarch64
    boot_test: off`)
	if ps != nil {
		t.Fatal(ps)
	}
	x, a := cfg.Arches[0], cfg.Arches[1]
	if !x.BootTested() || x.Boot.Queue != "boot-x86_64" || x.Boot.QEMU != "qemu-system-x86_64" || x.Boot.TimeLimit != 20*time.Second ||
		x.Boot.Accel != AccelAuto || x.Boot.MemoryMiB != 512 || !slices.Equal(x.Boot.KernelArgs, []string{"module.sig_enforce=1"}) {
		t.Errorf("x86_64 %+v", x)
	}
	if a.BootTested() {
		t.Errorf("aarch64 %+v: boot_test off", a)
	}
	_, ps = parse(t, dir, `
arches:
  - name: x86_64
    boot_test: yes please
    boot: {accel: kvm, memory_mib: 64, time_limit: 1s, kernel_args: ["a b"]}`)
	want := []string{
		`arches[0].boot_test: "yes please"; use on or off`,
		`arches[0].boot.accel: "kvm"; use auto or tcg`,
		`arches[0].boot.memory_mib: 64 MiB; a kernel needs at least 128`,
		`arches[0].boot.time_limit: 1s; allow a boot at least 5s`,
		`arches[0].boot.kernel_args[0]: "a b"; give one argument per item, without spaces`,
	}
	if got := messages(ps, dir); !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}
