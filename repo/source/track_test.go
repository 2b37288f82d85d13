package source

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/kernelnvr"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// release is one row of the real RHEL kernel timeline: an NVR and the
// first date any rebuilder saw it.
type release struct {
	major    string
	vr, date string
}

func readReleases(t testing.TB) []release {
	t.Helper()
	f, err := os.Open(testutil.SharedData(t, "release-history", "rhel-kernel-nvr-timeline.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []release
	sc := bufio.NewScanner(f)
	sc.Scan() // header: major nvr centos_git_import openela_import elrepo_first_build
	for sc.Scan() {
		fields := strings.Split(sc.Text(), "\t")
		r := release{major: fields[0], vr: fields[1]}
		for _, d := range fields[2:] {
			if d != "" && (r.date == "" || d < r.date) {
				r.date = d
			}
		}
		if r.date == "" {
			t.Fatalf("timeline row %q has no date", sc.Text())
		}
		out = append(out, r)
	}
	return out
}

// upstream is a simulated vault: an HTTP index page listing the kernel
// SRPMs of every major released up to today, among kmod SRPMs.
type upstream struct {
	mu       sync.Mutex
	today    string
	releases []release
}

func (u *upstream) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	u.mu.Lock()
	defer u.mu.Unlock()
	fmt.Fprintln(w, "<html><body><pre>")
	for _, rel := range u.releases {
		if rel.date <= u.today {
			fmt.Fprintf(w, "<a href=\"kernel-%s.src.rpm\">kernel-%[1]s.src.rpm</a> %s\n", rel.vr, rel.date)
			fmt.Fprintf(w, "<a href=\"kmod-e1000e-3.8.4-1.el%s_%s.src.rpm\">kmod</a>\n", rel.major, strings.ReplaceAll(rel.date, "-", ""))
		}
	}
	fmt.Fprintln(w, "</pre></body></html>")
}

func (u *upstream) setToday(d string) {
	u.mu.Lock()
	u.today = d
	u.mu.Unlock()
}

// The watcher polls the simulated upstream once per day on which anything
// was released, replaying the real timeline; the el8 stream's rule picks
// exactly the RHEL 8 kernels, each on the day it appeared, and the whole
// selection is in rpm version order.
func TestTrackReplaysRHEL8Timeline(t *testing.T) {
	releases := readReleases(t)
	up := &upstream{releases: releases}
	srv := httptest.NewServer(up)
	defer srv.Close()
	src := newSource(t, config.Source{Name: "vault", Kind: config.SourceDir, URL: srv.URL + "/"}, Options{})
	rule := kernelnvr.StreamRule(config.Stream{Name: "el8", Version: "4.18.0", Release: "*.el8*"})

	var days []string
	for _, r := range releases {
		days = append(days, r.date)
	}
	slices.Sort(days)
	days = slices.Compact(days)

	seen := map[string]bool{}
	var last []tracked
	for _, day := range days {
		up.setToday(day)
		last = track(list(t, src), rule)
		var fresh, want []string
		for _, k := range last {
			if !seen[k.NVR.VR()] {
				seen[k.NVR.VR()] = true
				fresh = append(fresh, k.NVR.VR())
			}
		}
		for _, r := range releases {
			if r.date == day && r.major == "8" {
				want = append(want, r.vr)
			}
		}
		slices.Sort(fresh)
		slices.Sort(want)
		if !slices.Equal(fresh, want) {
			t.Errorf("%s: new el8 kernels %v, released that day %v", day, fresh, want)
		}
	}
	var all8 []string
	for _, r := range releases {
		if r.major == "8" {
			all8 = append(all8, r.vr)
		}
	}
	if len(last) != len(all8) || len(all8) < 70 {
		t.Fatalf("tracked %d el8 kernels, the timeline has %d", len(last), len(all8))
	}
	for i := 1; i < len(last); i++ {
		a, b := last[i-1].NEVRA, last[i].NEVRA
		if rpm.Vercmp(a.Version, b.Version) > 0 || a.Version == b.Version && rpm.Vercmp(a.Release, b.Release) >= 0 {
			t.Errorf("not in rpm order: %s before %s", a, b)
		}
	}
	if first, newest := last[0].NVR.VR(), last[len(last)-1].NVR.VR(); first != "4.18.0-32.el8" || newest != "4.18.0-553.144.1.el8_10" {
		t.Errorf("oldest %s, newest %s", first, newest)
	}
}

// A narrower stream: only the 8.8 z-stream, by release glob, with minors.
func TestTrackMinorStream(t *testing.T) {
	releases := readReleases(t)
	up := &upstream{releases: releases, today: "9999"}
	srv := httptest.NewServer(up)
	defer srv.Close()
	src := newSource(t, config.Source{Name: "vault", Kind: config.SourceDir, URL: srv.URL + "/"}, Options{})
	got := track(list(t, src), kernelnvr.Rule{Version: "4.18.0", Release: "477.*"})
	var vrs []string
	for _, k := range got {
		if r, ok := k.NVR.Minor(); !ok || r.String() != "8.8" {
			t.Errorf("%s is in minor %v", k.NVR, r)
		}
		vrs = append(vrs, k.NVR.Release)
	}
	want := []string{"477.10.1.el8_8", "477.13.1.el8_8", "477.27.1.el8_8"}
	if !slices.Equal(vrs, want) {
		t.Errorf("8.8 stream %v, want %v", vrs, want)
	}
}

// tracked is a source package a stream's rule selected.
type tracked struct {
	Package
	NVR kernelnvr.NVR
}

// track selects what the watch does from a listing (workflows.Candidates):
// the kernels a stream's rule matches, once each, in rpm's version order.
func track(pkgs []Package, rule kernelnvr.Rule) []tracked {
	var out []tracked
	for _, p := range pkgs {
		if n, err := kernelnvr.Parse(p.NEVRA.NVR()); err == nil && p.IsSource() && rule.Match(n) {
			out = append(out, tracked{p, n})
		}
	}
	slices.SortStableFunc(out, func(a, b tracked) int { return kernelnvr.Compare(a.NVR, b.NVR) })
	return slices.CompactFunc(out, func(a, b tracked) bool { return kernelnvr.Compare(a.NVR, b.NVR) == 0 })
}
