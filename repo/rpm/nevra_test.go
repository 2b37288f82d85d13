package rpm_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// Cases from rpm's own rpmvercmp test-suite.
func TestVercmp(t *testing.T) {
	cases := []struct {
		a, b string
		want int
	}{
		{"1.0", "1.0", 0}, {"1.0", "2.0", -1}, {"2.0", "1.0", 1},
		{"2.0.1", "2.0.1", 0}, {"2.0", "2.0.1", -1}, {"2.0.1a", "2.0.1", 1},
		{"5.5p1", "5.5p2", -1}, {"5.5p10", "5.5p1", 1}, {"10xyz", "10.1xyz", -1},
		{"xyz10", "xyz10.1", -1}, {"xyz.4", "8", -1}, {"1.0aa", "1.0a", 1},
		{"1.0~rc1", "1.0", -1}, {"1.0~rc1", "1.0~rc2", -1}, {"1.0~rc1~git123", "1.0~rc1", -1},
		{"477.27.1.el8_8", "477.10.1.el8_8", 1}, {"80.1.2.el8_0", "80.el8", 1},
		{"362.8.1.el9_3", "362.24.1.el9_3", -1},
	}
	for _, c := range cases {
		if got := rpm.Vercmp(c.a, c.b); got != c.want {
			t.Errorf("Vercmp(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestCompareEVR(t *testing.T) {
	if rpm.CompareEVR("", "1", "1", "0", "1", "1") != 0 {
		t.Error("absent epoch must equal epoch 0")
	}
	if rpm.CompareEVR("1", "0.1", "1", "", "9.9", "9") != 1 {
		t.Error("epoch must dominate version")
	}
	if rpm.CompareEVR("", "4.18.0", "", "", "4.18.0", "80.el8") != 0 {
		t.Error("a missing release must match any release")
	}
}

func TestParseNEVRA(t *testing.T) {
	cases := map[string]rpm.NEVRA{
		"kernel-core-4.18.0-477.27.1.el8_8.x86_64.rpm": {Name: "kernel-core", Version: "4.18.0", Release: "477.27.1.el8_8", Arch: "x86_64"},
		"kmod-e1000e-1:3.8.4-1.el8.x86_64":             {Name: "kmod-e1000e", Epoch: "1", Version: "3.8.4", Release: "1.el8", Arch: "x86_64"},
		"kernel-5.14.0-362.8.1.el9_3.src.rpm":          {Name: "kernel", Version: "5.14.0", Release: "362.8.1.el9_3", Arch: "src"},
	}
	for in, want := range cases {
		got, err := rpm.ParseNEVRA(in)
		if err != nil || got != want {
			t.Errorf("ParseNEVRA(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "kernel", "kernel-1.x86_64", "a-b-c.", "-1-2.x86_64"} {
		if _, err := rpm.ParseNEVRA(bad); err == nil {
			t.Errorf("ParseNEVRA(%q) succeeded, want error", bad)
		}
	}
	n := rpm.NEVRA{Name: "kmod-foo", Epoch: "2", Version: "1.0", Release: "3.el8", Arch: "x86_64"}
	if n.String() != "kmod-foo-2:1.0-3.el8.x86_64" || n.Filename() != "kmod-foo-1.0-3.el8.x86_64.rpm" {
		t.Errorf("String %q Filename %q", n.String(), n.Filename())
	}
}

func FuzzParseNEVRA(f *testing.F) {
	for _, s := range []string{"kernel-core-4.18.0-477.27.1.el8_8.x86_64.rpm", "a-1:2-3.noarch", "x-y-z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := rpm.ParseNEVRA(s)
		if err != nil {
			return
		}
		back, err := rpm.ParseNEVRA(n.String())
		if err != nil || back != n {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", s, n, n.String(), back, err)
		}
	})
}

// FuzzRead feeds mutated real RPMs to the header reader: it must return a
// package or an error, never panic or allocate without bound.
func FuzzRead(f *testing.F) {
	for _, dir := range []string{"go-rpmutils", "centos-signed"} {
		m, _ := filepath.Glob(filepath.Join(testutil.SharedData(f, "rpm", dir), "*.rpm"))
		for _, p := range m {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := rpm.Read(bytesReader(data), int64(len(data)))
		if err == nil && p.NEVRA.Name == "" {
			t.Fatal("package without a name read without error")
		}
	})
}
