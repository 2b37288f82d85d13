package kernelnvr

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in                     string
		name, version, release string
		build, major, minor    int
		rel                    string // Minor(); "" when unknown
	}{
		{"4.18.0-477.27.1.el8_8", "kernel", "4.18.0", "477.27.1.el8_8", 477, 8, 8, "8.8"},
		{"kernel-5.14.0-362.8.1.el9_3", "kernel", "5.14.0", "362.8.1.el9_3", 362, 9, 3, "9.3"},
		{"4.18.0-80.el8", "kernel", "4.18.0", "80.el8", 80, 8, -1, "8.0"},
		{"3.10.0-1160.el7", "kernel", "3.10.0", "1160.el7", 1160, 7, -1, "7.9"},
		{"3.10.0-1160.119.1.el7", "kernel", "3.10.0", "1160.119.1.el7", 1160, 7, -1, "7.9"},
		{"4.18.0-372.9.1.el8", "kernel", "4.18.0", "372.9.1.el8", 372, 8, -1, "8.6"},
		{"4.18.0-553.el8_10", "kernel", "4.18.0", "553.el8_10", 553, 8, 10, "8.10"},
		{"4.18.0-80.1.2.el8_0", "kernel", "4.18.0", "80.1.2.el8_0", 80, 8, 0, "8.0"},
		{"kernel-rt-4.18.0-513.5.1.rt7.307.el8_9", "kernel-rt", "4.18.0", "513.5.1.rt7.307.el8_9", 513, 8, 9, "8.9"},
		{"4.18.0-32.el8", "kernel", "4.18.0", "32.el8", 32, 8, -1, ""},
		{"6.8.0-1.fc40", "kernel", "6.8.0", "1.fc40", 1, 0, -1, ""},
	} {
		n, err := Parse(tc.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		if n.Name != tc.name || n.Version != tc.version || n.Release != tc.release ||
			n.Build != tc.build || n.Major != tc.major || n.DistMinor != tc.minor {
			t.Errorf("Parse(%q) = %+v", tc.in, n)
		}
		r, ok := n.Minor()
		if got := map[bool]string{true: r.String(), false: ""}[ok]; got != tc.rel {
			t.Errorf("%s.Minor() = %q, want %q", tc.in, got, tc.rel)
		}
	}
}

func TestMinorOfGABuilds(t *testing.T) {
	// The mapping the RHEL kernel build numbers follow, GA by GA.
	want := map[int]map[int]int{
		8: {80: 0, 147: 1, 193: 2, 240: 3, 305: 4, 348: 5, 372: 6, 425: 7, 477: 8, 513: 9, 553: 10},
		9: {70: 0, 162: 1, 284: 2, 362: 3, 427: 4, 503: 5, 570: 6},
	}
	for major, m := range want {
		for build, minor := range m {
			got, ok := MinorOfBuild(major, build)
			if !ok || got != minor {
				t.Errorf("MinorOfBuild(%d, %d) = %d, %v; want %d", major, build, got, ok, minor)
			}
			if b, ok := GABuild(Release{major, minor}); !ok || b != build {
				t.Errorf("GABuild(%d.%d) = %d, %v; want %d", major, minor, b, ok, build)
			}
		}
	}
	if _, ok := MinorOfBuild(8, 79); ok {
		t.Error("build 79 of RHEL 8 predates 8.0 but has a minor")
	}
	if _, ok := MinorOfBuild(6, 100); ok {
		t.Error("RHEL 6 is not in the table but has a minor")
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{
		"", "kernel", "4.18.0", "-4.18.0-80.el8", "kernel-4.18.0-", "kernel-x.y-80.el8",
		"kernel-4-80.el8", "kernel-4.18.0-el8", "kernel-4.18.0-80.el8/../x", "kernel-4.18.0-80 el8", "ker nel-4.18.0-80.el8", "--4.18.0-80.el8",
		"kernel-4.18.0-" + strings.Repeat("1", 300),
	} {
		if n, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", in, n)
		} else if !errors.Is(err, ErrSyntax) {
			t.Errorf("Parse(%q) error %v does not wrap ErrSyntax", in, err)
		}
	}
}

func TestCompareIsRPMOrder(t *testing.T) {
	in := []string{"4.18.0-477.10.1.el8_8", "4.18.0-80.el8", "4.18.0-477.27.1.el8_8", "4.18.0-553.el8_10", "4.18.0-80.11.2.el8_0", "4.18.0-80.7.2.el8_0"}
	var nvrs []NVR
	for _, s := range in {
		nvrs = append(nvrs, mustParse(t, s))
	}
	slices.SortStableFunc(nvrs, Compare)
	want := []string{"80.el8", "80.7.2.el8_0", "80.11.2.el8_0", "477.10.1.el8_8", "477.27.1.el8_8", "553.el8_10"}
	for i, n := range nvrs {
		if n.Release != want[i] {
			t.Fatalf("sorted[%d] = %s, want release %s", i, n, want[i])
		}
	}
}

func mustParse(t testing.TB, s string) NVR {
	t.Helper()
	n, err := Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
