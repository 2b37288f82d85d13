package config

import "testing"

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
