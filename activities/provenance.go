package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/store"
)

// ProvenancePrefix is where provenance records live in a repository's store:
// one JSON file per published RPM, named after it.
const ProvenancePrefix = ".kabiforge/provenance/"

// ProvenanceKey is the key of an RPM's provenance record.
func ProvenanceKey(rpmName string) string { return ProvenancePrefix + rpmName + ".json" }

func writeProvenance(ctx context.Context, st store.Store, p pipeline.Provenance) error {
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return fmt.Errorf("encode provenance of %s: %w", p.RPM.Name, err)
	}
	if _, err := st.Put(ctx, ProvenanceKey(p.RPM.Name), bytesReader(data)); err != nil {
		return infra("write provenance of "+p.RPM.Name, err)
	}
	return nil
}

// readProvenance returns every provenance record of a repository.
func readProvenance(ctx context.Context, st store.Store) ([]pipeline.Provenance, error) {
	return readRecords(ctx, st, ProvenancePrefix, decodeProvenance)
}

// readRecords decodes every JSON record under prefix in a store.
func readRecords[T any](ctx context.Context, st store.Store, prefix string, decode func(key string, data []byte) (T, error)) ([]T, error) {
	var out []T
	for info, err := range st.List(ctx, prefix) {
		if err != nil {
			return nil, infra("list "+prefix, err)
		}
		if !strings.HasSuffix(info.Key, ".json") {
			continue
		}
		r, _, err := st.Get(ctx, info.Key)
		if err != nil {
			return nil, infra("read "+info.Key, err)
		}
		data, err := io.ReadAll(r)
		r.Close()
		if err != nil {
			return nil, infra("read "+info.Key, err)
		}
		v, err := decode(info.Key, data)
		if err != nil {
			return nil, badInput(err)
		}
		out = append(out, v)
	}
	return out, nil
}

// decodeRecord decodes the JSON record stored at key.
func decodeRecord[T any](key string, data []byte) (T, error) {
	var v T
	if err := json.Unmarshal(data, &v); err != nil {
		return v, fmt.Errorf("%s: %w", key, err)
	}
	return v, nil
}

// decodeProvenance decodes the provenance record stored at key.
func decodeProvenance(key string, data []byte) (pipeline.Provenance, error) {
	var p pipeline.Provenance
	if err := json.Unmarshal(data, &p); err != nil {
		return pipeline.Provenance{}, fmt.Errorf("provenance %s: %w", key, err)
	}
	return p, nil
}

// rpmArch returns the arch of an RPM file name (name-v-r.arch.rpm).
func rpmArch(name string) string {
	s := strings.TrimSuffix(name, ".rpm")
	return path.Ext(s)[min(1, len(path.Ext(s))):]
}

// compareKernel orders kernel version-releases ("4.18.0-80.el8") as rpm does.
func compareKernel(a, b string) int {
	av, ar, _ := strings.Cut(a, "-")
	bv, br, _ := strings.Cut(b, "-")
	return rpm.CompareEVR("", av, ar, "", bv, br)
}

// published groups a repository's provenance records into builds: the
// kernels and each kmod's builds, per arch.
type published struct {
	records []pipeline.Provenance
}

// newest returns the newest build matching keep (by the kernel it was built
// for, then record time), its records grouped by source RPM.
func (p published) newest(arch string, keep func(pipeline.Provenance) bool) *pipeline.Published {
	var best *pipeline.Provenance
	for i, r := range p.records {
		if !keep(r) {
			continue
		}
		if a := rpmArch(r.RPM.Name); a != arch && a != "noarch" {
			continue
		}
		if best == nil || compareKernel(r.KernelNVR, best.KernelNVR) > 0 ||
			(r.KernelNVR == best.KernelNVR && r.Time.After(best.Time)) {
			best = &p.records[i]
		}
	}
	if best == nil {
		return nil
	}
	out := &pipeline.Published{SRPM: best.SourceRPM, KernelNVR: best.KernelNVR}
	for _, r := range p.records {
		if r.SourceRPM.SHA256 == best.SourceRPM.SHA256 && keep(r) {
			if a := rpmArch(r.RPM.Name); a == arch || a == "noarch" {
				out.RPMs = append(out.RPMs, r.RPM)
			}
		}
	}
	return out
}
