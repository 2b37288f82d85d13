package pipeline

import (
	"testing"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

func TestRebuildReason(t *testing.T) {
	pub := &Published{}
	tests := []struct {
		name string
		spec KmodSpec
		v    KmodVerdict
		want string
	}{
		{"compatible and published: kept", KmodSpec{Name: "a"}, KmodVerdict{Published: pub, Compatible: true}, ""},
		{"never published: built", KmodSpec{Name: "a"}, KmodVerdict{Compatible: true}, "no published build"},
		{"never published, policy always: built for that reason", KmodSpec{Name: "a", Always: true}, KmodVerdict{}, "no published build"},
		{"broke: rebuilt, with the symbols", KmodSpec{Name: "a"}, KmodVerdict{Published: pub, Breaks: []string{"kfree", "kmalloc (stablelisted)"}},
			"kABI broke: kfree, kmalloc (stablelisted)"},
		{"broke under a hold-gate policy: still rebuilt", KmodSpec{Name: "a"}, KmodVerdict{Published: pub, Breaks: []string{"x"}, Action: kabi.ActionHoldGate},
			"kABI broke: x"},
		{"broke and policy always: the break is the reason", KmodSpec{Name: "a", Always: true}, KmodVerdict{Published: pub, Breaks: []string{"x"}}, "kABI broke: x"},
		{"compatible, policy always: rebuilt", KmodSpec{Name: "a", Always: true}, KmodVerdict{Published: pub, Compatible: true}, "rebuild policy always"},
	}
	for _, tt := range tests {
		if got := RebuildReason(tt.spec, tt.v); got != tt.want {
			t.Errorf("%s: RebuildReason = %q, want %q", tt.name, got, tt.want)
		}
	}
}
