package kernelnvr

import (
	"bufio"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// timelineRow is one row of rhel-kernel-nvr-timeline.tsv.
type timelineRow struct {
	major int
	nvr   string
}

func readTimeline(t testing.TB) []timelineRow {
	t.Helper()
	f, err := os.Open(testutil.SharedData(t, "release-history", "rhel-kernel-nvr-timeline.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var rows []timelineRow
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue
		}
		fields := strings.Split(sc.Text(), "\t")
		major, err := strconv.Atoi(fields[0])
		if err != nil || len(fields) < 2 {
			t.Fatalf("timeline line %d: %q", line, sc.Text())
		}
		rows = append(rows, timelineRow{major, fields[1]})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return rows
}

// TestGABuildsMatchHistory derives the minor of every real NVR that names
// one in its dist tag (.el8_8) from its build number alone, and checks that
// each minor's GA build in the table is the oldest build the history shows
// for that minor.
func TestGABuildsMatchHistory(t *testing.T) {
	rows := readTimeline(t)
	if len(rows) < 200 {
		t.Fatalf("timeline has %d rows", len(rows))
	}
	oldest := map[Release]int{}
	checked := 0
	for _, row := range rows {
		n := mustParse(t, row.nvr)
		if n.Major != row.major {
			t.Errorf("%s: major %d, timeline says %d", row.nvr, n.Major, row.major)
		}
		if n.DistMinor < 0 {
			continue
		}
		r := Release{n.Major, n.DistMinor}
		if b, ok := oldest[r]; !ok || n.Build < b {
			oldest[r] = n.Build
		}
		got, ok := MinorOfBuild(n.Major, n.Build)
		if !ok || got != n.DistMinor {
			t.Errorf("%s: build %d maps to minor %d (%v), dist tag says %d", row.nvr, n.Build, got, ok, n.DistMinor)
		}
		checked++
	}
	for r, b := range oldest {
		if ga, ok := GABuild(r); !ok || ga != b {
			t.Errorf("%s: table GA build %d (%v), history's oldest %d", r, ga, ok, b)
		}
	}
	if checked < 90 {
		t.Errorf("only %d NVRs carried a minor in their dist tag", checked)
	}
}

// TestEveryHistoricalNVRHasAMinor: all shipped el7–el10 kernels after each
// major's first GA map to a minor release.
func TestEveryHistoricalNVRHasAMinor(t *testing.T) {
	for _, row := range readTimeline(t) {
		n := mustParse(t, row.nvr)
		first, _ := GABuild(Release{n.Major, 0})
		if _, ok := n.Minor(); !ok && n.Build >= first {
			t.Errorf("%s has no minor release", row.nvr)
		}
	}
}

// Every kernel an ELRepo kmod was built for (elrepo-kmod_kernel_version-history.tsv,
// el8 to el10) parses, and those after their major's first GA have a minor
// that agrees with the spec path's major, except two real slips in ELRepo's
// history (el9 specs built for el8 kernels).
func TestELRepoKernelsParse(t *testing.T) {
	var mismatched []string
	data, err := os.ReadFile(testutil.SharedData(t, "release-history", "elrepo-kmod_kernel_version-history.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(data)), "\n")[1:]
	if len(lines) < 1000 {
		t.Fatalf("%d rows", len(lines))
	}
	for i, line := range lines {
		f := strings.Split(line, "\t")
		n, err := Parse(f[1])
		if err != nil {
			t.Errorf("row %d: %v", i+2, err)
			continue
		}
		if r, ok := n.Minor(); ok && !strings.Contains(f[3], "/el"+strconv.Itoa(r.Major)+"/") {
			mismatched = append(mismatched, f[1]+" "+f[3])
		}
	}
	want := []string{"4.18.0-372.9.1.el8 b/hfsplus-kmod/el9/hfsplus-kmod.spec", "4.18.0-425.3.1.el8 b/floppy-kmod/el9/floppy-kmod.spec"}
	if !slices.Equal(mismatched, want) {
		t.Errorf("kernels whose major differs from their spec's: %q", mismatched)
	}
}
