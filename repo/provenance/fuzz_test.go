package provenance

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
)

// FuzzProvenance feeds mutated provenance records to the decoder a
// repository's records are read with, then asks for the newest
// kernel and kmod builds among them and a well-formed record, as the
// analysis does: no panic, and what comes back is a build of the arch
// asked for whose kernel is no older than any other matching record's.
func FuzzProvenance(f *testing.F) {
	at := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	art := func(name string) pipeline.Artifact {
		return pipeline.Artifact{Key: "rpms/0123/" + name, SHA256: "0123", Name: name, Size: 1234}
	}
	for _, p := range []pipeline.Provenance{
		{RPM: art("kernel-core-5.14.0-70.el9.x86_64.rpm"), SourceRPM: art("kernel-5.14.0-70.el9.src.rpm"),
			SigningKeyID: "ABCD", Builder: "mock", ConfigHash: "ff", BuildHost: "h1", KernelNVR: "5.14.0-70.el9",
			Kind: pipeline.KindKernel, Time: at, Logs: []pipeline.Artifact{art("build.log")},
			BootTest: &pipeline.BootRecord{KernelNVR: "5.14.0-70.el9", Arch: "x86_64", Log: art("boot.log"), Report: art("boot.json")}},
		{RPM: art("kmod-e1000-1.0-1.el9.noarch.rpm"), SourceRPM: art("e1000-1.0-1.el9.src.rpm"), KernelNVR: "5.14.0-70.el9",
			Kind: pipeline.KindKmod, Kmod: "e1000", Time: at,
			UpstreamSRPM: &pipeline.Fetched{}},
	} {
		b, err := json.MarshalIndent(p, "", "  ")
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b, "x86_64")
	}
	f.Add([]byte(`{"rpm":{"name":"kernel-core-1-1..rpm"},"kernel_nvr":"-","kind":"kernel"}`), "")
	base := pipeline.Provenance{RPM: art("kernel-core-5.14.0-1.el9.x86_64.rpm"), SourceRPM: art("kernel-5.14.0-1.el9.src.rpm"),
		KernelNVR: "5.14.0-1.el9", Kind: pipeline.KindKernel, Time: at}
	f.Fuzz(func(t *testing.T, data []byte, arch string) {
		const key = Prefix + "x.rpm.json"
		p, err := Decode(key, data)
		if err != nil {
			if !strings.Contains(err.Error(), key) {
				t.Fatalf("error %q does not name %s", err, key)
			}
			return
		}
		pub := NewSet([]pipeline.Provenance{base, p})
		for _, keep := range []func(pipeline.Provenance) bool{
			func(r pipeline.Provenance) bool { return r.Kind == pipeline.KindKernel },
			func(r pipeline.Provenance) bool {
				return r.Kind == pipeline.KindKernel && CompareKernel(r.KernelNVR, "5.14.0-70.el9") < 0
			},
			func(r pipeline.Provenance) bool { return r.Kind == pipeline.KindKmod && r.Kmod == p.Kmod },
		} {
			got := pub.Newest(arch, keep)
			var matching []pipeline.Provenance
			for _, r := range pub.Records() {
				if a := Arch(r.RPM.Name); keep(r) && (a == arch || a == "noarch") {
					matching = append(matching, r)
				}
			}
			if (got == nil) != (len(matching) == 0) {
				t.Fatalf("newest(%q) = %+v from %d matching records", arch, got, len(matching))
			}
			if got == nil {
				continue
			}
			for _, r := range got.RPMs {
				if a := Arch(r.Name); a != arch && a != "noarch" {
					t.Fatalf("newest(%q) has %s of another arch", arch, r.Name)
				}
			}
			for _, r := range matching {
				if CompareKernel(r.KernelNVR, got.KernelNVR) > 0 {
					t.Fatalf("newest(%q) is for %s, a matching record for the newer %s", arch, got.KernelNVR, r.KernelNVR)
				}
			}
		}
	})
}
