package demo

import (
	"strings"
	"testing"
)

func TestSourceKernelSpec(t *testing.T) {
	src := LinuxSource{Tarball: "/usr/src/linux-source-6.1.tar.xz", Series: "6.1", DebVersion: "6.1.192-3"}
	k := SourceKernel{Source: src, Release: "1"}
	if got := k.NVR(".el8"); got != "6.1.192-1.el8" {
		t.Errorf("NVR = %q", got)
	}
	spec, err := k.Spec()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Version: 6.1.192\n", "Release: 1%{?dist}\n", "Source0: linux-source-6.1.tar.xz\n",
		"%setup -q -n linux-source-6.1\n", "openssl x509 -inform DER -in %{pubkey}",
		`%{!?pubkey:echo "kernel.spec: no module-signing certificate`,
	} {
		if !strings.Contains(string(spec), want) {
			t.Errorf("spec lacks %q", want)
		}
	}
	if strings.Contains(string(spec), "privkey") {
		t.Error("the kernel spec reads the private key; it needs only the certificate")
	}
	for _, bad := range []SourceKernel{
		{Source: src, Release: "1.el8"},
		{Source: src, Release: ""},
		{Source: LinuxSource{Series: "6.1", DebVersion: "6.1"}, Release: "1"},
		{Source: LinuxSource{DebVersion: "6.1.192-3"}, Release: "1"},
	} {
		if _, err := bad.Spec(); err == nil {
			t.Errorf("Spec(%+v): no error", bad)
		}
	}
}

// The options the boot gate and the signature check depend on are asked
// for explicitly; the spec checks that olddefconfig kept each.
func TestSourceKernelConfigAsksForWhatTheGateNeeds(t *testing.T) {
	lines := map[string]bool{}
	for _, l := range strings.Split(string(SourceKernelConfig()), "\n") {
		lines[l] = true
	}
	for _, want := range []string{
		"CONFIG_MODULES=y", "CONFIG_MODVERSIONS=y", "CONFIG_MODULE_SIG=y", "CONFIG_SYSTEM_TRUSTED_KEYRING=y",
		"# CONFIG_MODULE_SIG_FORCE is not set", // module.sig_enforce=1 exists only without it
		"CONFIG_SERIAL_8250_CONSOLE=y", "CONFIG_BLK_DEV_INITRD=y", "CONFIG_RD_GZIP=y", "CONFIG_DEVTMPFS=y",
		// The Go runtime of the static /init: futexes, and epoll and an
		// eventfd for its netpoller (without them: "runtime: eventfd
		// failed with 38", and the kernel panics killing init).
		"CONFIG_FUTEX=y", "CONFIG_EPOLL=y", "CONFIG_EVENTFD=y",
	} {
		if !lines[want] {
			t.Errorf("minimal.config lacks %q", want)
		}
	}
}
