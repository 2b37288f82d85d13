package kabi

import (
	"sort"
	"strings"
	"testing"
)

// TestPolicyDecide covers each rule field and kind: the first matching rule
// wins, unmatched breaks take the default, nil fails the kmod.
func TestPolicyDecide(t *testing.T) {
	p := &Policy{Default: ActionFailKmod, Rules: []Rule{
		{Symbol: "dma_buf_*", Kinds: []Kind{KindNamespace}, Action: ActionIgnore},
		{Namespace: "CXL", Action: ActionHoldGate},
		{Module: "drivers/scsi/*", Kinds: []Kind{KindCRC, KindRemoved}, Action: ActionIgnore},
		{Kinds: []Kind{KindGPLOnly}, Kmod: "kmod-nvidia*", Action: ActionIgnore},
		{Kinds: []Kind{KindGPLOnly}, Action: ActionHoldGate},
		{Kinds: []Kind{KindVermagic}, Action: ActionIgnore},
		{Kinds: []Kind{KindDepends}, Kmod: "kabi_?ons", Action: ActionHoldGate},
		{Symbol: "kfree", Action: ActionHoldGate},
	}}
	cases := []struct {
		name string
		kmod string
		b    Break
		p    *Policy
		want Action
	}{
		{"nil policy fails the kmod", "k", Break{Kind: KindCRC, Name: "x"}, nil, ActionFailKmod},
		{"zero policy fails the kmod", "k", Break{Kind: KindRemoved, Name: "x"}, &Policy{}, ActionFailKmod},
		{"namespace by symbol glob", "k", Break{Kind: KindNamespace, Name: "dma_buf_put", Namespace: "DMA_BUF"}, p, ActionIgnore},
		{"glob needs the kind too", "k", Break{Kind: KindCRC, Name: "dma_buf_put"}, p, ActionFailKmod},
		{"namespace rule", "k", Break{Kind: KindNamespace, Name: "cxl_x", Namespace: "CXL"}, p, ActionHoldGate},
		{"crc by module glob across /", "k", Break{Kind: KindCRC, Name: "fc_x", Module: "drivers/scsi/libfc/libfc"}, p, ActionIgnore},
		{"removed by module glob", "k", Break{Kind: KindRemoved, Name: "fc_y", Module: "drivers/scsi/libfc/libfc"}, p, ActionIgnore},
		{"module glob misses", "k", Break{Kind: KindCRC, Name: "z", Module: "vmlinux"}, p, ActionFailKmod},
		{"gpl-only by kmod", "kmod-nvidia-550", Break{Kind: KindGPLOnly, Name: "debugfs_create_dir"}, p, ActionIgnore},
		{"gpl-only other kmod", "kmod-e1000e", Break{Kind: KindGPLOnly, Name: "debugfs_create_dir"}, p, ActionHoldGate},
		{"vermagic", "k", Break{Kind: KindVermagic, Object: "m"}, p, ActionIgnore},
		{"depends by module name", "kmod-x", Break{Kind: KindDepends, Name: "xfrm_algo", Object: "kabi_nons"}, p, ActionHoldGate},
		{"depends other module", "kmod-x", Break{Kind: KindDepends, Name: "xfrm_algo", Object: "other"}, p, ActionFailKmod},
		{"symbol exact", "k", Break{Kind: KindRemoved, Name: "kfree"}, p, ActionHoldGate},
		{"default", "k", Break{Kind: KindRemoved, Name: "kfree2"}, p, ActionFailKmod},
	}
	for _, c := range cases {
		if got := c.p.Decide(c.kmod, c.b); got != c.want {
			t.Errorf("%s: %s", c.name, got)
		}
	}
}

func TestPolicyApplySetsCompatibleAndStrongestAction(t *testing.T) {
	p := &Policy{Rules: []Rule{{Kinds: []Kind{KindVermagic}, Action: ActionIgnore}, {Kinds: []Kind{KindRemoved}, Action: ActionHoldGate}}}
	for _, c := range []struct {
		v          Verdict
		want       Action
		compatible bool
	}{
		{Verdict{}, "", true},
		{Verdict{Refused: []Break{{Kind: KindVermagic}}}, ActionIgnore, true},
		{Verdict{Refused: []Break{{Kind: KindVermagic}}, Mismatched: []Break{{Kind: KindCRC}}}, ActionFailKmod, false},
		{Verdict{Missing: []Break{{Kind: KindRemoved}}, Mismatched: []Break{{Kind: KindCRC}}}, ActionHoldGate, false},
	} {
		v := c.v
		p.Apply("k", &v)
		if v.Action != c.want || v.Compatible != c.compatible {
			t.Errorf("%+v: action %q compatible %v, want %q %v", c.v, v.Action, v.Compatible, c.want, c.compatible)
		}
	}
}

func TestGlob(t *testing.T) {
	for _, c := range []struct {
		p, s string
		ok   bool
	}{{"", "x", true}, {"*", "", true}, {"a*c", "abbc", true}, {"a*c", "abcd", false}, {"a?c", "abc", true},
		{"a?c", "ac", false}, {"drivers/*", "drivers/a/b", true}, {"*_GPL", "EXPORT_SYMBOL_GPL", true}, {"x", "y", false}} {
		if glob(c.p, c.s) != c.ok {
			t.Errorf("glob(%q, %q) != %v", c.p, c.s, c.ok)
		}
	}
}

func TestParsePolicyErrorsNameInputAndField(t *testing.T) {
	for in, want := range map[string]string{
		"rules:\n  - action: block\n":                     "rules[0].action",
		"rules:\n  - kinds: [abi]\n    action: ignore\n":  "rules[0].kinds",
		"default: maybe\n":                                "default",
		"rules:\n  - symbl: x\n    action: ignore\n":      "field symbl not found",
		"rules:\n  - symbol: 'a b'\n    action: ignore\n": "rules[0].symbol",
	} {
		_, err := ParsePolicy(strings.NewReader(in), "p.yaml")
		if err == nil || !strings.Contains(err.Error(), "p.yaml") || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: error %v, want p.yaml and %q", in, err, want)
		}
	}
	p, err := ParsePolicy(strings.NewReader("default: ignore\nrules:\n  - symbol: kfree\n    kinds: [crc, removed]\n    action: hold-gate\n"), "p.yaml")
	if err != nil || p.Default != ActionIgnore || len(p.Rules) != 1 || p.Rules[0].Kinds[1] != KindRemoved {
		t.Fatalf("%+v %v", p, err)
	}
}

// TestCheckPolicyTable checks one kmod whose breaks are one of each kind
// Check finds on symbols (CRC changed in vmlinux and in a module, removed,
// GPL-only, namespace) under policies of one rule each, selecting by symbol
// glob, module, namespace, kmod or its module's name and kind: the rule
// decides exactly the breaks it selects, the rest take the default, and the
// verdict's action and compatibility follow.
func TestCheckPolicyTable(t *testing.T) {
	kernel, err := ParseSymvers(strings.NewReader("0x1\tcrc_a\tvmlinux\tEXPORT_SYMBOL\n"+
		"0x3\tnet_b\tdrivers/net/foo\tEXPORT_SYMBOL_GPL\n"+
		"0x5\tgpl_d\tvmlinux\tEXPORT_SYMBOL_GPL\n"+
		"0x6\tns_e\tvmlinux\tEXPORT_SYMBOL\tDMA_BUF\n"), "Module.symvers")
	if err != nil {
		t.Fatal(err)
	}
	kmod := Kmod{Name: "kmod-test", Needs: []Need{
		{Name: "crc_a", CRC: 2, HasCRC: true}, {Name: "net_b", CRC: 4, HasCRC: true}, {Name: "gone_c", CRC: 7, HasCRC: true},
		{Name: "gpl_d", CRC: 5, HasCRC: true}, {Name: "ns_e", CRC: 6, HasCRC: true},
	}, Modules: []ModInfo{{Name: "m1", License: "Proprietary", Uses: []string{"gpl_d", "ns_e"}}}}
	all := "crc_a net_b gone_c gpl_d ns_e"
	rule := func(r Rule) *Policy { return &Policy{Rules: []Rule{r}} }
	ignore := func(r Rule) *Policy { r.Action = ActionIgnore; return rule(r) }
	for _, c := range []struct {
		name    string
		p       *Policy
		decided string // the breaks the rule decides, in the order of all
		action  Action // what it decides for them
		verdict Action // the verdict's action
	}{
		{"no policy", nil, "", "", ActionFailKmod},
		{"crc by symbol glob", ignore(Rule{Symbol: "crc_*"}), "crc_a", ActionIgnore, ActionFailKmod},
		{"crc by kind and glob", ignore(Rule{Symbol: "*_?", Kinds: []Kind{KindCRC}}), "crc_a net_b", ActionIgnore, ActionFailKmod},
		{"crc by module glob", ignore(Rule{Module: "drivers/net/*", Kinds: []Kind{KindCRC}}), "net_b", ActionIgnore, ActionFailKmod},
		{"module vmlinux, every kind", ignore(Rule{Module: "vmlinux"}), "crc_a gpl_d ns_e", ActionIgnore, ActionFailKmod},
		{"removed by kind", ignore(Rule{Kinds: []Kind{KindRemoved}}), "gone_c", ActionIgnore, ActionFailKmod},
		{"removed by symbol", rule(Rule{Symbol: "gone_*", Kinds: []Kind{KindRemoved}, Action: ActionHoldGate}), "gone_c", ActionHoldGate, ActionHoldGate},
		{"a removed symbol has no module", ignore(Rule{Symbol: "gone_c", Module: "vmlinux"}), "", "", ActionFailKmod},
		{"gpl-only by kmod", ignore(Rule{Kinds: []Kind{KindGPLOnly}, Kmod: "kmod-t*"}), "gpl_d", ActionIgnore, ActionFailKmod},
		{"gpl-only by the module's name", rule(Rule{Kinds: []Kind{KindGPLOnly}, Kmod: "m1", Action: ActionHoldGate}), "gpl_d", ActionHoldGate, ActionHoldGate},
		{"gpl-only, other kmod", ignore(Rule{Kinds: []Kind{KindGPLOnly}, Kmod: "kmod-other"}), "", "", ActionFailKmod},
		{"namespace by namespace glob", ignore(Rule{Namespace: "DMA_*"}), "ns_e", ActionIgnore, ActionFailKmod},
		{"namespace glob, wrong kind", ignore(Rule{Namespace: "DMA_BUF", Kinds: []Kind{KindCRC}}), "", "", ActionFailKmod},
		{"namespace held", rule(Rule{Symbol: "ns_?", Kinds: []Kind{KindNamespace}, Action: ActionHoldGate}), "ns_e", ActionHoldGate, ActionHoldGate},
		{"everything ignored", ignore(Rule{Symbol: "*"}), all, ActionIgnore, ActionIgnore},
		{"default ignore, one held", &Policy{Default: ActionIgnore, Rules: []Rule{{Kinds: []Kind{KindCRC}, Module: "vmlinux", Action: ActionHoldGate}}},
			"crc_a", ActionHoldGate, ActionHoldGate},
	} {
		v := CheckPolicy(kernel, kmod, c.p)
		def := ActionFailKmod
		if c.p != nil && c.p.Default != "" {
			def = c.p.Default
		}
		var kinds, decided []string
		for _, b := range v.Breaks() {
			kinds = append(kinds, string(b.Kind)+" "+b.Name)
			switch b.Action {
			case def:
			case c.action:
				decided = append(decided, b.Name)
			default:
				t.Errorf("%s: %s %s has action %s", c.name, b.Kind, b.Name, b.Action)
			}
		}
		if got := strings.Join(kinds, ", "); got != "crc crc_a, crc net_b, removed gone_c, gpl-only gpl_d, namespace ns_e" {
			t.Fatalf("breaks %s", got)
		}
		sortedDecided := strings.Fields(c.decided)
		sort.Strings(decided)
		sort.Strings(sortedDecided)
		if strings.Join(decided, " ") != strings.Join(sortedDecided, " ") || v.Action != c.verdict || v.Compatible != (c.verdict == ActionIgnore) {
			t.Errorf("%s: decided %v, verdict %s compatible %v; want %q %s", c.name, decided, v.Action, v.Compatible, c.decided, c.verdict)
		}
	}
}
