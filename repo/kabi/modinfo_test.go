package kabi

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseModinfo(t *testing.T) {
	raw := "license=Proprietary\x00\x00\x00vermagic=6.1.0-57-cloud-amd64 SMP mod_unload modversions \x00" +
		"import_ns=DMA_BUF\x00depends=b,a\x00name=x\x00import_ns=CXL\x00license=GPL\x00" +
		"vermagic=6.1.0-57-cloud-amd64 SMP preempt mod_unload modversions \x00srcversion=ABC\x00"
	m, err := ParseModinfo([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	want := ModInfo{Name: "x", License: "Proprietary", Vermagic: "6.1.0-57-cloud-amd64 SMP mod_unload modversions ",
		ImportNS: []string{"CXL", "DMA_BUF"}, Depends: []string{"a", "b"}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("got %+v\nwant %+v", m, want)
	}
	for _, bad := range []string{"license\x00", "=x\x00", "li cense=GPL\x00"} {
		if _, err := ParseModinfo([]byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestVermagicFlagsAndModuleNames(t *testing.T) {
	if got := VermagicFlags("6.1.0-57-cloud-amd64 SMP preempt mod_unload modversions "); got != "SMP preempt mod_unload modversions" {
		t.Errorf("flags = %q", got)
	}
	for in, want := range map[string]string{"kernel/net/key/af_key.ko": "af_key", "a/snd-hda.ko.xz": "snd_hda",
		"x_y.ko.zst": "x_y", "xfrm_algo": "xfrm_algo"} {
		if got := ModuleName(in); got != want {
			t.Errorf("ModuleName(%q) = %q, want %q", in, got, want)
		}
	}
	for _, l := range []string{"GPL", "GPL v2", "GPL and additional rights", "Dual BSD/GPL", "Dual MIT/GPL", "Dual MPL/GPL"} {
		if !GPLCompatible(l) {
			t.Errorf("%q not GPL-compatible", l)
		}
	}
	for _, l := range []string{"Proprietary", "", "GPL v3", "gpl", "BSD"} {
		if GPLCompatible(l) {
			t.Errorf("%q GPL-compatible", l)
		}
	}
}

func TestParseModulesList(t *testing.T) {
	dep := "kernel/net/key/af_key.ko: kernel/net/xfrm/xfrm_algo.ko\nkernel/net/xfrm/xfrm_algo.ko:\n\nkernel/a/snd-hda.ko.xz:\n"
	got, err := ParseModulesList(strings.NewReader(dep), "modules.dep")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"af_key", "xfrm_algo", "snd_hda"}; !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
	for _, bad := range []string{"kernel/a.o\n", "kernel/a b.ko\n", "kernel/a.ko: b.txt\n"} {
		if _, err := ParseModulesList(strings.NewReader(bad), "modules.dep"); err == nil || !strings.Contains(err.Error(), "modules.dep:1") {
			t.Errorf("%q: error %v, want one naming modules.dep:1", bad, err)
		}
	}
}
