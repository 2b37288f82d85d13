package provenance

import (
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
)

func TestCompareKernel(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"4.18.0-80.el8", "4.18.0-80.1.2.el8_0", -1},
		{"4.18.0-80.11.2.el8_0", "4.18.0-80.1.2.el8_0", 1},
		{"5.14.0-70.el9", "4.18.0-553.el8", 1},
		{"4.18.0-80.el8", "4.18.0-80.el8", 0},
	} {
		if got := CompareKernel(tc.a, tc.b); got != tc.want {
			t.Errorf("CompareKernel(%s, %s) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
	if got := Arch("kernel-core-4.18.0-80.el8.x86_64.rpm"); got != "x86_64" {
		t.Errorf("Arch = %q", got)
	}
}

// TestSetQueries reads as a table: which published build each question
// finds among a repository's records.
func TestSetQueries(t *testing.T) {
	at := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	rec := func(rpmName, srpm, kernel string, kind pipeline.Kind, kmod string, sec int) pipeline.Provenance {
		return pipeline.Provenance{RPM: pipeline.Artifact{Name: rpmName}, SourceRPM: pipeline.Artifact{SHA256: srpm},
			KernelNVR: kernel, Kind: kind, Kmod: kmod, Time: at.Add(time.Duration(sec) * time.Second)}
	}
	set := NewSet([]pipeline.Provenance{
		rec("kernel-core-5.14.0-70.el9.x86_64.rpm", "k70", "5.14.0-70.el9", pipeline.KindKernel, "", 0),
		rec("kernel-devel-5.14.0-70.el9.x86_64.rpm", "k70", "5.14.0-70.el9", pipeline.KindKernel, "", 0),
		rec("kernel-core-5.14.0-70.el9.aarch64.rpm", "k70", "5.14.0-70.el9", pipeline.KindKernel, "", 0),
		rec("kernel-core-5.14.0-162.el9.x86_64.rpm", "k162", "5.14.0-162.el9", pipeline.KindKernel, "", 1),
		rec("kernel-core-5.14.0-284.el9.aarch64.rpm", "k284", "5.14.0-284.el9", pipeline.KindKernel, "", 2),
		rec("kmod-e1000-1.0-1.el9.x86_64.rpm", "e1", "5.14.0-70.el9", pipeline.KindKmod, "e1000", 3),
		rec("kmod-e1000-1.0-2.el9.x86_64.rpm", "e2", "5.14.0-162.el9", pipeline.KindKmod, "e1000", 4),
		rec("kmod-e1000-1.0-3.el9.x86_64.rpm", "e3", "5.14.0-162.el9", pipeline.KindKmod, "e1000", 5), // same kernel, later
		rec("e1000-firmware-1.0-3.el9.noarch.rpm", "e3", "5.14.0-162.el9", pipeline.KindKmod, "e1000", 5),
		rec("kmod-zfs-2.2-1.el9.aarch64.rpm", "z1", "5.14.0-284.el9", pipeline.KindKmod, "zfs", 6),
	})
	cases := []struct {
		name string
		got  *pipeline.Published
		want string // kernel, then the packages
	}{
		{"previous kernel before 162 on x86_64", set.PreviousKernel("x86_64", "5.14.0-162.el9"), "5.14.0-70.el9 kernel-core-5.14.0-70.el9.x86_64.rpm kernel-devel-5.14.0-70.el9.x86_64.rpm"},
		{"previous kernel before 70: none", set.PreviousKernel("x86_64", "5.14.0-70.el9"), ""},
		{"previous kernel before 9.4 on aarch64", set.PreviousKernel("aarch64", "5.14.0-427.el9"), "5.14.0-284.el9 kernel-core-5.14.0-284.el9.aarch64.rpm"},
		{"newest kernel x86_64", set.NewestKernel("x86_64"), "5.14.0-162.el9 kernel-core-5.14.0-162.el9.x86_64.rpm"},
		{"newest kernel s390x: none", set.NewestKernel("s390x"), ""},
		{"kmod: newest kernel, then latest build, with its noarch", set.Kmod("x86_64", "e1000"), "5.14.0-162.el9 kmod-e1000-1.0-3.el9.x86_64.rpm e1000-firmware-1.0-3.el9.noarch.rpm"},
		{"kmod of another arch only: none", set.Kmod("x86_64", "zfs"), ""},
		{"kmod on aarch64", set.Kmod("aarch64", "zfs"), "5.14.0-284.el9 kmod-zfs-2.2-1.el9.aarch64.rpm"},
	}
	for _, tc := range cases {
		got := ""
		if tc.got != nil {
			got = tc.got.KernelNVR
			for _, r := range tc.got.RPMs {
				got += " " + r.Name
			}
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
