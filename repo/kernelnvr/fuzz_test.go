package kernelnvr

import (
	"os"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// FuzzParse seeds from every NVR of the real timeline in
// ../shared/data/release-history/rhel-kernel-nvr-timeline.tsv.
func FuzzParse(f *testing.F) {
	data, err := os.ReadFile(testutil.SharedData(f, "release-history", "rhel-kernel-nvr-timeline.tsv"))
	if err != nil {
		f.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n")[1:] {
		if fields := strings.Split(line, "\t"); len(fields) > 1 {
			f.Add(fields[1])
			f.Add("kernel-" + fields[1])
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(n.String())
		if err != nil || again != n {
			t.Fatalf("Parse(%q) = %+v; reparsing %q gives %+v, %v", s, n, n.String(), again, err)
		}
		if r, ok := n.Minor(); ok && (r.Major != n.Major || r.Minor < 0) {
			t.Fatalf("%q: Minor() = %v", s, r)
		}
		if Compare(n, n) != 0 {
			t.Fatalf("%q does not equal itself", s)
		}
	})
}
