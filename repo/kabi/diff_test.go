package kabi

import (
	"os"
	"sort"
	"strings"
	"testing"
)

// c8 lists every distinct RHEL 8 kABI list in release order.
var c8 = []string{"4.18.0-80.el8", "4.18.0-80.1.2.el8_0", "4.18.0-147.el8", "4.18.0-193.el8",
	"4.18.0-240.el8", "4.18.0-305.el8", "4.18.0-348.el8", "4.18.0-372.9.1.el8",
	"4.18.0-425.10.1.el8_7", "4.18.0-477.10.1.el8_8"}

var c7 = []string{"3.10.0-121.el7", "3.10.0-229.el7", "3.10.0-327.el7", "3.10.0-514.el7",
	"3.10.0-693.el7", "3.10.0-862.el7", "3.10.0-957.el7", "3.10.0-1062.el7",
	"3.10.0-1127.el7", "3.10.0-1160.el7"}

// naiveCRCs reads a list the plain way: words 1 and 2 of each line.
func naiveCRCs(t *testing.T, path string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m := make(map[string]string)
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		f := strings.Fields(line)
		m[f[1]] = f[0]
	}
	return m
}

func names(l []Change) []string {
	out := make([]string, len(l))
	for i, c := range l {
		out[i] = c.Name
	}
	sort.Strings(out)
	return out
}

func mustRead(t *testing.T, path string) *ABI {
	t.Helper()
	abi, err := ReadSymversFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return abi
}

func TestDiffOfConsecutiveC8ListsEqualsSetArithmetic(t *testing.T) {
	lists := kabiLists(t, "c8")
	for i := 1; i < len(c8); i++ {
		oldP, newP := lists[c8[i-1]], lists[c8[i]]
		d := Diff(mustRead(t, oldP), mustRead(t, newP))
		o, n := naiveCRCs(t, oldP), naiveCRCs(t, newP)
		var added, removed, changed []string
		for s, crc := range o {
			if nc, ok := n[s]; !ok {
				removed = append(removed, s)
			} else if strings.TrimPrefix(nc, "0x") != strings.TrimPrefix(crc, "0x") {
				changed = append(changed, s)
			}
		}
		for s := range n {
			if _, ok := o[s]; !ok {
				added = append(added, s)
			}
		}
		for _, l := range [][]string{added, removed, changed} {
			sort.Strings(l)
		}
		step := c8[i-1] + " -> " + c8[i]
		eq(t, step+" added", names(d.Added), added)
		eq(t, step+" removed", names(d.Removed), removed)
		eq(t, step+" crc changed", names(d.CRCChanged), changed)
		for _, c := range append(append(d.Added, d.Removed...), d.CRCChanged...) {
			if !c.Stablelisted {
				t.Errorf("%s: %s comes from a stablelist but is not marked", step, c.Name)
			}
		}
	}
}

func TestDiffFirstC8UpdateRemovesTheRadixTreeSymbols(t *testing.T) {
	lists := kabiLists(t, "c8")
	d := Diff(mustRead(t, lists["4.18.0-80.el8"]), mustRead(t, lists["4.18.0-80.1.2.el8_0"]))
	eq(t, "removed", names(d.Removed), []string{"__radix_tree_insert", "__radix_tree_next_slot",
		"radix_tree_delete", "radix_tree_gang_lookup", "radix_tree_gang_lookup_tag",
		"radix_tree_next_chunk", "radix_tree_preload", "radix_tree_tag_set"})
	if len(d.Added)+len(d.CRCChanged)+len(d.ExportChanged) != 0 || !d.Broken() {
		t.Errorf("delta = %+v", d)
	}
}

func TestRHEL7And8KeepTheirPromiseWithinTheMajorRelease(t *testing.T) {
	for _, branch := range []struct {
		name string
		nvrs []string
	}{{"c7", c7}, {"c8", c8}} {
		lists := kabiLists(t, branch.name)
		for i := 1; i < len(branch.nvrs); i++ {
			d := Diff(mustRead(t, lists[branch.nvrs[i-1]]), mustRead(t, lists[branch.nvrs[i]]))
			if len(d.CRCChanged) != 0 {
				t.Errorf("%s -> %s: stablelisted CRCs changed within a major release: %v",
					branch.nvrs[i-1], branch.nvrs[i], names(d.CRCChanged))
			}
		}
	}
	// The only RHEL 7 removal: wireless_send_event left the list after 7.0.
	lists := kabiLists(t, "c7")
	d := Diff(mustRead(t, lists["3.10.0-121.el7"]), mustRead(t, lists["3.10.0-229.el7"]))
	eq(t, "7.0 -> 7.1 removed", names(d.Removed), []string{"wireless_send_event"})
	if len(d.Added) != 174 {
		t.Errorf("7.1 added %d symbols, want 174", len(d.Added))
	}
}

func TestDiffFromRHEL7ToRHEL8ReadsLikeANewMajorRelease(t *testing.T) {
	d := Diff(mustRead(t, kabiLists(t, "c7")["3.10.0-1160.el7"]), mustRead(t, kabiLists(t, "c8")["4.18.0-80.el8"]))
	if len(d.Removed) != 563 || len(d.Added) != 189 || len(d.CRCChanged) != 240 {
		t.Errorf("c7 -> c8: -%d +%d ~%d, want -563 +189 ~240", len(d.Removed), len(d.Added), len(d.CRCChanged))
	}
	// misc_register left the list; __kmalloc and printk kept their CRCs.
	if !hasChange(d.Removed, "misc_register") || hasChange(d.CRCChanged, "__kmalloc") || hasChange(d.CRCChanged, "printk") {
		t.Error("misc_register should be removed; __kmalloc and printk unchanged")
	}
	if !hasChange(d.CRCChanged, "__alloc_skb") {
		t.Error("__alloc_skb's CRC changed from 3.10 to 4.18")
	}
}

func TestDiffMarksStablelistAndExportChanges(t *testing.T) {
	old, _ := ParseSymvers(strings.NewReader(
		"0x1\tkept\tvmlinux\tEXPORT_SYMBOL\n0x2\tgpl\tvmlinux\tEXPORT_SYMBOL\n0x3\tgone\tvmlinux\tEXPORT_SYMBOL\n0x4\tgrey\tvmlinux\tEXPORT_SYMBOL\n0x5\tgone2\tvmlinux\tEXPORT_SYMBOL\n"), "old")
	new, _ := ParseSymvers(strings.NewReader(
		"0x1\tkept\tvmlinux\tEXPORT_SYMBOL\n0x2\tgpl\tvmlinux\tEXPORT_SYMBOL_GPL\n0x9\tgrey\tvmlinux\tEXPORT_SYMBOL\n0x6\tnew\tvmlinux\tEXPORT_SYMBOL\n"), "new")
	l := NewStablelist("l")
	l.Add("gone2")
	l.Add("kept")
	old.SetStablelist(l)
	d := Diff(old, new)
	eq(t, "removed (stablelisted first)", []string{d.Removed[0].Name, d.Removed[1].Name}, []string{"gone2", "gone"})
	if !d.Removed[0].Stablelisted || d.Removed[1].Stablelisted {
		t.Errorf("removed = %+v", d.Removed)
	}
	if len(d.CRCChanged) != 1 || d.CRCChanged[0].Name != "grey" || d.CRCChanged[0].Old.CRC != 4 || d.CRCChanged[0].New.CRC != 9 {
		t.Errorf("crc changed = %+v", d.CRCChanged)
	}
	if len(d.ExportChanged) != 1 || d.ExportChanged[0].New.Export != "EXPORT_SYMBOL_GPL" {
		t.Errorf("export changed = %+v", d.ExportChanged)
	}
	eq(t, "added", names(d.Added), []string{"new"})
	if same := Diff(new, new); !same.Empty() || same.Broken() {
		t.Errorf("an ABI differs from itself: %+v", same)
	}
}

func hasChange(l []Change, name string) bool {
	for _, c := range l {
		if c.Name == name {
			return true
		}
	}
	return false
}

func eq(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s = %v, want %v", what, got, want)
	}
}
