package kernelnvr

import (
	"testing"

	"github.com/kabiforge/kabiforge/config"
)

func TestRuleMatch(t *testing.T) {
	el8 := Rule{Version: "4.18.0", Release: "*.el8*"}
	for in, want := range map[string]bool{
		"kernel-4.18.0-477.27.1.el8_8": true,
		"kernel-4.18.0-80.el8":         true,
		"kernel-5.14.0-362.8.1.el9_3":  false,
		"kernel-rt-4.18.0-80.rt9.el8":  false,
		"kernel-4.18.01-80.el8":        false,
		"kernel-4.18.0-80.el9":         false,
		"kernel-3.10.0-1160.el7":       false,
	} {
		if got := el8.Match(mustParse(t, in)); got != want {
			t.Errorf("el8.Match(%s) = %v", in, got)
		}
	}
	prefix := Rule{Version: "4.18"}
	if !prefix.Match(mustParse(t, "4.18.0-80.el8")) || prefix.Match(mustParse(t, "4.180.0-1.el8")) {
		t.Error("version prefix does not stop at a dot")
	}
	if err := (Rule{Release: "[el8"}).Check(); err == nil {
		t.Error("malformed glob passes Check")
	}
	if (Rule{Release: "[el8"}).Match(mustParse(t, "4.18.0-80.el8")) {
		t.Error("malformed glob matches")
	}
}

// A configured stream's rule (the one the watch and `kabiforge rebuild` both
// apply) tracks the kernel package only, on version dot boundaries and the
// release glob.
func TestStreamRuleMatch(t *testing.T) {
	el8 := config.Stream{Version: "4.18.0", Release: "*.el8*"}
	el9 := config.Stream{Version: "5.14", Release: "*.el9_3"}
	tests := []struct {
		s    config.Stream
		nvr  string
		want bool
	}{
		{el8, "kernel-4.18.0-477.27.1.el8_8", true},
		{el8, "kernel-4.18.0-80.el8", true},
		{el8, "kernel-4.18.0-348.el9", false},
		{el8, "kernel-4.18.01-80.el8", false},
		{el8, "kernel-5.14.0-362.8.1.el9_3", false},
		{el8, "kernel-rt-4.18.0-80.el8", false},
		{el8, "kernel-64k-4.18.0-80.el8", false},
		{el9, "kernel-5.14.0-362.8.1.el9_3", true},
		{el9, "kernel-5.14.0-284.11.1.el9_2", false},
		{el9, "kernel-5.140.0-362.8.1.el9_3", false},
		{el9, "kernel-rt-5.14.0-362.8.1.el9_3", false},
	}
	for _, tt := range tests {
		if got := StreamRule(tt.s).Match(mustParse(t, tt.nvr)); got != tt.want {
			t.Errorf("StreamRule(%+v).Match(%s) = %v, want %v", tt.s, tt.nvr, got, tt.want)
		}
	}
}
