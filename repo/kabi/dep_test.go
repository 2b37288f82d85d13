package kabi

import (
	"testing"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Only `kernel(sym) = 0xCRC` and `ksym(sym) = 0xCRC` are kABI dependencies;
// the kernel package's own `kernel(x86-64) = 4.18.0-80.el8` and unversioned
// or ranged ones are other dependencies, not errors.
func TestParseSymbolDep(t *testing.T) {
	cases := []struct {
		dep  rpm.Dep
		want Need
		ok   bool
	}{
		{rpm.Dep{Name: "kernel(printk)", Flags: rpm.EQ, Version: "0xc5850110"}, Need{Name: "printk", CRC: 0xc5850110, HasCRC: true}, true},
		{rpm.Dep{Name: "ksym(usb_register)", Flags: rpm.EQ, Version: "0x00000001"}, Need{Name: "usb_register", CRC: 1, HasCRC: true}, true},
		{rpm.Dep{Name: "kernel(old_sym)", Flags: rpm.EQ, Version: "deadbeef"}, Need{Name: "old_sym", CRC: 0xdeadbeef, HasCRC: true}, true},
		{rpm.Dep{Name: "kernel(x86-64)", Flags: rpm.EQ, Version: "4.18.0", Release: "80.el8"}, Need{}, false},
		{rpm.Dep{Name: "kernel(printk)"}, Need{}, false},
		{rpm.Dep{Name: "kernel(printk)", Flags: rpm.GT | rpm.EQ, Version: "0x1"}, Need{}, false},
		{rpm.Dep{Name: "kernel-core", Flags: rpm.EQ, Version: "0x1"}, Need{}, false},
	}
	for _, c := range cases {
		got, ok, err := ParseSymbolDep(c.dep)
		if err != nil || ok != c.ok || got != c.want {
			t.Errorf("ParseSymbolDep(%s) = %+v, %v, %v; want %+v, %v", c.dep, got, ok, err, c.want, c.ok)
		}
	}
}
