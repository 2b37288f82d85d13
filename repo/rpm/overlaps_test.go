package rpm_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// TestOverlapsAgreesWithRpm asks rpm itself which requirements an
// installed package's Provides satisfy (rpm -i --test of a package that
// requires them all lists the ones nothing provides), and compares each
// answer with Overlaps over the same package's Provides as rpm.Open reads
// them.
func TestOverlapsAgreesWithRpm(t *testing.T) {
	testutil.RequireTool(t, "rpm")
	provides := []string{"kernel(a) = 0xab", "kernel(b) = 0x0000000f", "k = 2-1.el8", "e = 1:1.0-1", "unversioned", "ranged >= 3"}
	requires := []string{
		"kernel(a) = 0xab", "kernel(a) = 0xAB", "kernel(a) = 0xac", "kernel(a)", "kernel(a) >= 0xaa", "kernel(a) < 0xab",
		"kernel(b) = 0xf", "kernel(b) = 0x0000000f", "kernel(c) = 0xab",
		"k = 2", "k = 2-1.el8", "k = 2-2.el8", "k >= 1", "k > 2", "k > 2-0", "k <= 2-1.el8", "k < 3", "k = 0:2",
		"e = 1.0", "e >= 1:0.9", "e = 2:1.0", "e > 1.0",
		"unversioned = 5", "unversioned < 1", "ranged = 4", "ranged < 3", "ranged <= 3", "ranged > 1", "ranged = 2",
	}
	withDeps := func(name, tag string, deps []string) string {
		spec := testutil.SimpleSpec(name, "1", "1")
		return strings.Replace(spec, "AutoReqProv: no\n", "AutoReqProv: no\n"+tag+": "+strings.Join(deps, "\n"+tag+": ")+"\n", 1)
	}
	provPath := testutil.RPMBuild(t, withDeps("prov", "Provides", provides))[0]
	reqPath := testutil.RPMBuild(t, withDeps("req", "Requires", requires))[0]
	pkg, err := rpm.Open(provPath)
	if err != nil {
		t.Fatal(err)
	}
	db := t.TempDir()
	rpmCmd := func(args ...string) ([]byte, error) {
		cmd := exec.Command("rpm", append([]string{"--dbpath", db, "--define", "_tmppath " + db}, args...)...)
		cmd.Env = []string{"HOME=" + db, "LC_ALL=C.UTF-8", "PATH=/usr/bin:/bin:/usr/sbin:/sbin"}
		return cmd.CombinedOutput()
	}
	if out, err := rpmCmd("--initdb"); err != nil {
		t.Fatalf("rpm --initdb: %v\n%s", err, out)
	}
	if out, err := rpmCmd("-i", "--justdb", "--nodeps", "--noscripts", "--nosignature", "--nodigest", provPath); err != nil {
		t.Fatalf("rpm -i --justdb: %v\n%s", err, out)
	}
	out, err := rpmCmd("-i", "--test", "--justdb", "--nosignature", "--nodigest", reqPath)
	if err == nil || !strings.Contains(string(out), "Failed dependencies") {
		t.Fatalf("rpm -i --test: want failed dependencies (some requirements are unmet on purpose), got %v\n%s", err, out)
	}
	unmet := 0
	for _, r := range requires {
		want := !strings.Contains(string(out), "\t"+r+" is needed by req-")
		req := parseDep(t, r)
		got := false
		for _, p := range pkg.Provides {
			got = got || rpm.Overlaps(p, req)
		}
		if got != want {
			t.Errorf("requirement %q: Overlaps says %v, rpm says %v", r, got, want)
		}
		if !want {
			unmet++
		}
	}
	if unmet == 0 || unmet == len(requires) {
		t.Errorf("rpm found %d of %d requirements unmet: the cases do not tell anything apart\n%s", unmet, len(requires), out)
	}
	t.Logf("%d of %d requirements unmet, as rpm says", unmet, len(requires))
}

// parseDep reads "name [op evr]".
func parseDep(t *testing.T, s string) rpm.Dep {
	f := strings.Fields(s)
	if len(f) == 1 {
		return rpm.Dep{Name: f[0]}
	}
	ops := map[string]rpm.Flags{"=": rpm.EQ, "<": rpm.LT, ">": rpm.GT, "<=": rpm.LT | rpm.EQ, ">=": rpm.GT | rpm.EQ}
	d := rpm.Dep{Name: f[0], Flags: ops[f[1]]}
	evr := f[2]
	if e, rest, ok := strings.Cut(evr, ":"); ok {
		d.Epoch, evr = e, rest
	}
	d.Version, d.Release, _ = strings.Cut(evr, "-")
	return d
}

// TestOverlaps: the cases the kmod build's resolver and the publish
// retention relied on when each had a copy of this rule.
func TestOverlaps(t *testing.T) {
	kd := rpm.Dep{Name: "kernel-devel", Flags: rpm.EQ, Version: "4.18.0", Release: "80.el8"}
	sym := func(name, crc string) rpm.Dep {
		return rpm.Dep{Name: "kernel(" + name + ")", Flags: rpm.EQ, Version: crc}
	}
	k := func(f rpm.Flags, v string) rpm.Dep { return rpm.Dep{Name: "k", Flags: f, Version: v} }
	for _, tc := range []struct {
		prov, req rpm.Dep
		want      bool
	}{
		{kd, rpm.Dep{Name: "kernel-devel"}, true},
		{kd, rpm.Dep{Name: "kernel-core"}, false},
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.EQ, Version: "4.18.0", Release: "80.el8"}, true},
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.EQ, Version: "4.18.0", Release: "80.1.2.el8_0"}, false},
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.EQ, Version: "4.18.0"}, true}, // no release: any
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.GT | rpm.EQ, Version: "4.18.0", Release: "79.el8"}, true},
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.GT, Version: "4.18.0", Release: "80.el8"}, false},
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.LT, Version: "4.18.0", Release: "147.el8"}, true},
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.LT | rpm.EQ, Version: "4.18.0", Release: "80.el8"}, true},
		{kd, rpm.Dep{Name: "kernel-devel", Flags: rpm.GT | rpm.EQ, Epoch: "1", Version: "1.0"}, false},
		{sym("a", "0x1"), sym("a", "0x1"), true},
		{sym("a", "0xAB"), sym("a", "0xab"), false}, // rpm compares letters case-sensitively
		{sym("a", "0x1"), sym("a", "0x2"), false},
		{sym("a", "0x1"), sym("b", "0x1"), false},
		{sym("a", "0x1"), rpm.Dep{Name: "kernel(a)"}, true},
		{rpm.Dep{Name: "kernel(a)"}, sym("a", "0x1"), true},
		{k(rpm.EQ, "2"), k(rpm.GT|rpm.EQ, "1"), true},
		{k(rpm.EQ, "1"), k(rpm.GT, "1"), false},
		{k(rpm.EQ, "1"), k(rpm.LT, "2"), true},
		{k(rpm.GT|rpm.EQ, "3"), k(rpm.LT, "3"), false},
		{k(rpm.GT|rpm.EQ, "3"), k(rpm.LT|rpm.EQ, "3"), true},
	} {
		if got := rpm.Overlaps(tc.prov, tc.req); got != tc.want {
			t.Errorf("provide %s, require %s: %v, want %v", tc.prov, tc.req, got, tc.want)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, f := range []rpm.Flags{0, rpm.LT, rpm.GT, rpm.EQ, rpm.LT | rpm.EQ, rpm.GT | rpm.EQ} {
		if got := rpm.ParseFlags(f.String()); got != f {
			t.Errorf("ParseFlags(%q) = %v, want %v", f.String(), got, f)
		}
	}
	if rpm.ParseFlags("XX") != 0 {
		t.Error("ParseFlags(XX) is a comparison")
	}
}
