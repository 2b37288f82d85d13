package kabi

import (
	"os"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// TestKmodFromRPMKsym: ksym(sym) Requires name other kmods' exports when
// the package also has kernel(sym) ones (RHEL 6+), and the kernel's
// symbols when it has ksym only (RHEL 5).
func TestKmodFromRPMKsym(t *testing.T) {
	dep := func(name, crc string) rpm.Dep { return rpm.Dep{Name: name, Flags: rpm.EQ, Version: crc} }
	for _, tc := range []struct {
		name     string
		requires []rpm.Dep
		want     []string
	}{
		{"modern", []rpm.Dep{dep("kernel(module_layout)", "0x1"), dep("ksym(kfcount_add)", "0x2")}, []string{"module_layout"}},
		{"rhel5", []rpm.Dep{dep("ksym(usb_register)", "0x1"), dep("kernel(x86-64)", "4.18.0")}, []string{"usb_register"}},
		{"kernel only", []rpm.Dep{dep("kernel(_printk)", "0x3")}, []string{"_printk"}},
	} {
		p := &rpm.Package{NEVRA: rpm.NEVRA{Name: "kmod-x", Version: "1", Release: "1", Arch: "x86_64"}, Requires: tc.requires}
		k, ok, err := KmodFromRPM(p)
		if err != nil || !ok {
			t.Fatalf("%s: ok %v err %v", tc.name, ok, err)
		}
		var got []string
		for _, n := range k.Needs {
			got = append(got, n.Name)
		}
		if len(got) != len(tc.want) || got[0] != tc.want[0] {
			t.Errorf("%s: needs %v, want %v", tc.name, got, tc.want)
		}
	}
}

func FuzzParseExportCRCs(f *testing.F) {
	data, err := os.ReadFile(buildHelloModule(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Fuzz(func(t *testing.T, data []byte) {
		crcs, err := ParseExportCRCs(data, "in.ko")
		if err != nil {
			if !strings.Contains(err.Error(), "in.ko") {
				t.Fatalf("error %q does not name the input", err)
			}
			return
		}
		for _, c := range crcs {
			if c.Name == "" || !c.HasCRC {
				t.Fatalf("export %+v", c)
			}
		}
	})
}
