package kabi

import (
	"fmt"
	"strings"
	"testing"
)

func TestCheckAgainstARealRHEL8List(t *testing.T) {
	kernel := mustRead(t, kabiLists(t, "c8")["4.18.0-477.10.1.el8_8"])
	kernel.Name = "4.18.0-477.10.1.el8_8"
	// A kmod built on 8.0 using __kmalloc and a radix tree symbol that left the list.
	kmod := Kmod{Name: "kmod-foo", Needs: []Need{
		{Name: "__kmalloc", CRC: 0xd2b09ce5, HasCRC: true},
		{Name: "printk", CRC: 0x27e1a049, HasCRC: true},
		{Name: "radix_tree_preload", CRC: 0x1, HasCRC: true},
	}}
	v := Check(kernel, kmod)
	if v.Compatible || v.Checked != 3 || len(v.Mismatched) != 0 || len(v.Missing) != 1 || v.Missing[0].Name != "radix_tree_preload" {
		t.Fatalf("verdict = %+v", v)
	}
	if v.Missing[0].Stablelisted {
		t.Error("radix_tree_preload is not on the 8.8 list")
	}
	kmod.Needs = kmod.Needs[:2]
	if v := Check(kernel, kmod); !v.Compatible {
		t.Errorf("verdict = %+v", v)
	}
}

func TestCheckReportsMismatchesAndMissingStablelistedFirst(t *testing.T) {
	kernel, err := ParseSymvers(strings.NewReader(
		"0x10\tmisc_register\tvmlinux\tEXPORT_SYMBOL\n0x20\tgrey_sym\tvmlinux\tEXPORT_SYMBOL\n0x30\tok_sym\tvmlinux\tEXPORT_SYMBOL\n0x40\tmod_sym\tdrivers/x/y\tEXPORT_SYMBOL\n"), "k")
	if err != nil {
		t.Fatal(err)
	}
	l := NewStablelist("l")
	for _, s := range []string{"misc_register", "ok_sym", "listed_gone"} {
		l.Add(s)
	}
	kernel.SetStablelist(l)
	v := Check(kernel, Kmod{Name: "kmod-bar", Needs: []Need{
		{Name: "grey_sym", CRC: 0x21, HasCRC: true},
		{Name: "misc_register", CRC: 0x11, HasCRC: true},
		{Name: "ok_sym", CRC: 0x30, HasCRC: true},
		{Name: "mod_sym", HasCRC: false}, // undefined in .ko, no __versions entry
		{Name: "off_list_gone", CRC: 1, HasCRC: true},
		{Name: "listed_gone", CRC: 2, HasCRC: true},
	}})
	if v.Compatible || v.StablelistedBreaks() != 2 {
		t.Fatalf("verdict = %+v", v)
	}
	want := []Break{
		{Kind: KindCRC, Name: "misc_register", Want: 0x11, HasCRC: true, Have: 0x10, Module: "vmlinux", Stablelisted: true, Action: ActionFailKmod},
		{Kind: KindCRC, Name: "grey_sym", Want: 0x21, HasCRC: true, Have: 0x20, Module: "vmlinux", Action: ActionFailKmod},
	}
	if len(v.Mismatched) != 2 || v.Mismatched[0] != want[0] || v.Mismatched[1] != want[1] {
		t.Errorf("mismatched = %+v", v.Mismatched)
	}
	if len(v.Missing) != 2 || v.Missing[0].Name != "listed_gone" || !v.Missing[0].Stablelisted || v.Missing[1].Name != "off_list_gone" {
		t.Errorf("missing = %+v", v.Missing)
	}
}

// TestCheckRefusals covers the reasons beyond CRCs on a small kernel: a
// GPL-only export for a non-GPL module, a namespace not imported, vermagic
// flags, a depends the kernel does not ship (a sibling in the kmod is fine).
func TestCheckRefusals(t *testing.T) {
	kernel := NewABI("k")
	for _, s := range []Symbol{
		{Name: "gpl_sym", CRC: 1, Module: "vmlinux", Export: "EXPORT_SYMBOL_GPL"},
		{Name: "plain_sym", CRC: 2, Module: "vmlinux", Export: "EXPORT_SYMBOL"},
		{Name: "ns_sym", CRC: 3, Module: "vmlinux", Export: "EXPORT_SYMBOL_GPL", Namespace: "DMA_BUF"},
	} {
		if err := kernel.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	kernel.Vermagic = "6.1.0-57-cloud-amd64 SMP preempt mod_unload modversions "
	kernel.AddModule("kernel/net/xfrm/xfrm_algo.ko")
	needs := []Need{{Name: "gpl_sym", CRC: 1, HasCRC: true}, {Name: "ns_sym", CRC: 3, HasCRC: true}, {Name: "plain_sym", CRC: 2, HasCRC: true}}
	km := Kmod{Name: "kmod-x", Needs: needs, Modules: []ModInfo{
		{Name: "prop", License: "Proprietary", Uses: []string{"gpl_sym", "plain_sym"},
			Vermagic: "6.1.0-50-cloud-amd64 SMP preempt mod_unload modversions"}, // release differs: fine
		{Name: "nons", License: "GPL", Uses: []string{"ns_sym"}, Depends: []string{"xfrm_algo", "prop", "missing_mod"}},
		{Name: "ns_ok", License: "Dual MIT/GPL", Uses: []string{"ns_sym"}, ImportNS: []string{"DMA_BUF"},
			Vermagic: "6.1.0-57-cloud-amd64 SMP mod_unload modversions "},
	}}
	v := Check(kernel, km)
	var got []string
	for _, b := range v.Refused {
		got = append(got, fmt.Sprintf("%s %s %s", b.Object, b.Kind, b.Name))
	}
	want := []string{"nons depends missing_mod", "nons namespace ns_sym", "ns_ok vermagic ", "prop gpl-only gpl_sym"}
	if strings.Join(got, "|") != strings.Join(want, "|") || v.Compatible || v.Action != ActionFailKmod {
		t.Errorf("refused = %q, want %q (verdict %+v)", got, want, v)
	}
	if len(v.Missing)+len(v.Mismatched) != 0 || v.Greylist != nil {
		t.Errorf("verdict %+v", v)
	}
	kernel.SetStablelist(&Stablelist{syms: map[string]struct{}{"plain_sym": {}}})
	if v := Check(kernel, km); strings.Join(v.Greylist, ",") != "gpl_sym,ns_sym" {
		t.Errorf("greylist %v", v.Greylist)
	}
}
