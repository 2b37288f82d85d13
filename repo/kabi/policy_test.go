package kabi

import (
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
