package config

import "testing"

func TestStreamMatches(t *testing.T) {
	el8 := Stream{Version: "4.18.0", Release: "*.el8*"}
	el9 := Stream{Version: "5.14", Release: "*.el9_3"}
	tests := []struct {
		s                Stream
		version, release string
		want             bool
	}{
		{el8, "4.18.0", "477.27.1.el8_8", true},
		{el8, "4.18.0", "80.el8", true},
		{el8, "4.18.0", "348.el9", false},
		{el8, "4.18.01", "80.el8", false},
		{el8, "5.14.0", "362.8.1.el9_3", false},
		{el9, "5.14.0", "362.8.1.el9_3", true},
		{el9, "5.14.0", "284.11.1.el9_2", false},
		{el9, "5.140.0", "362.8.1.el9_3", false},
	}
	for _, tt := range tests {
		if got := tt.s.Matches(tt.version, tt.release); got != tt.want {
			t.Errorf("%+v.Matches(%s, %s) = %v, want %v", tt.s, tt.version, tt.release, got, tt.want)
		}
	}
}

func TestLookups(t *testing.T) {
	c := Default()
	c.Kmods = []Kmod{{Name: "e1000e", Streams: []string{"el9"}}, {Name: "bar"}}
	if s, ok := c.Source("upstream"); !ok || s.Kind != SourceDir {
		t.Errorf("Source(upstream) = %+v, %v", s, ok)
	}
	if _, ok := c.Source("nope"); ok {
		t.Error("Source(nope) found")
	}
	if a, ok := c.Arch("x86_64"); !ok || a.Queue != "build-x86_64" {
		t.Errorf("Arch = %+v, %v", a, ok)
	}
	if r, ok := c.Repository("el8"); !ok || r.BaseURL == "" {
		t.Errorf("Repository = %+v, %v", r, ok)
	}
	if s, ok := c.Stream("el8"); !ok || s.Version != "4.18.0" {
		t.Errorf("Stream = %+v, %v", s, ok)
	}
	k, _ := c.Kmod("e1000e")
	b, _ := c.Kmod("bar")
	if k.BuildsFor("el8") || !k.BuildsFor("el9") || !b.BuildsFor("el8") {
		t.Errorf("BuildsFor wrong: %+v %+v", k, b)
	}
}

func TestGateHolds(t *testing.T) {
	def := Default().Gate
	always := Gate{On: []GateCondition{GateAlways}}
	tests := []struct {
		g    Gate
		c    GateCondition
		want bool
	}{
		{def, GateKmodFailed, true},
		{def, GateStablelistChanged, true},
		{def, GateKabiChanged, false},
		{always, GateKabiChanged, true},
		{Gate{On: []GateCondition{}}, GateKmodFailed, false},
	}
	for _, tt := range tests {
		if got := tt.g.Holds(tt.c); got != tt.want {
			t.Errorf("%v.Holds(%s) = %v, want %v", tt.g.On, tt.c, got, tt.want)
		}
	}
}
