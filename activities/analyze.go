package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kabi"
	"github.com/kabiforge/kabiforge/repo/modsign"
)

// Analyze compares a new kernel's kABI (from its built packages) with the
// previously published kernel of the repository and with every configured
// kmod's published build, marking stablelisted symbols, and stores the
// report (text and JSON) in the artifact store.
func (a *Activities) Analyze(ctx context.Context, in pipeline.AnalyzeInput) (pipeline.Analysis, error) {
	repo, err := a.repository(in.Repository)
	if err != nil {
		return pipeline.Analysis{}, err
	}
	dir, done, err := a.tempDir("kabi")
	if err != nil {
		return pipeline.Analysis{}, err
	}
	defer done()
	newABI, err := a.loadKernel(ctx, in.Kernel, filepath.Join(dir, "new"))
	if err != nil {
		return pipeline.Analysis{}, err
	}
	pub, err := loadProvenance(ctx, repo.Store)
	if err != nil {
		return pipeline.Analysis{}, err
	}
	out := pipeline.Analysis{Arch: in.Arch, Kmods: []pipeline.KmodVerdict{}}
	if sl := newABI.Stablelist(); sl != nil {
		out.Stablelist = sl.Len()
	}
	var delta *kabi.Delta
	prev := pub.PreviousKernel(in.Arch, in.KernelNVR)
	if prev != nil {
		prevABI, err := a.loadKernel(ctx, prev.RPMs, filepath.Join(dir, "prev"))
		if err != nil {
			return pipeline.Analysis{}, err
		}
		delta = kabi.Diff(prevABI, newABI)
		out.Previous = prev.KernelNVR
		out.Added, out.Removed, out.Changed = len(delta.Added), len(delta.Removed), len(delta.CRCChanged)
		for _, c := range append(append(append([]kabi.Change{}, delta.Removed...), delta.CRCChanged...), delta.ExportChanged...) {
			if c.Stablelisted {
				out.StablelistChanged = append(out.StablelistChanged, c.Name)
			}
		}
		for _, c := range delta.ExportChanged {
			out.ExportChanged = append(out.ExportChanged, c.Name+": "+c.Detail())
		}
	}
	var verdicts []kabi.Verdict
	for i, k := range in.Kmods {
		kv := pipeline.KmodVerdict{Name: k.Name}
		kv.Published = pub.Kmod(in.Arch, k.Name)
		if kv.Published != nil {
			v, _, err := a.check(ctx, newABI, k.Name, kv.Published.RPMs, filepath.Join(dir, fmt.Sprint("kmod", i)), in.Policy)
			if err != nil {
				return pipeline.Analysis{}, err
			}
			verdicts = append(verdicts, v)
			setVerdict(&kv, v)
		}
		out.Kmods = append(out.Kmods, kv)
	}
	if a.Metrics != nil {
		broken := 0
		for _, v := range verdicts {
			if !v.Compatible {
				broken++
			}
		}
		a.Metrics.KabiBreaks(in.Arch, broken)
	}
	if err := a.storeReport(ctx, in, &out, delta, verdicts); err != nil {
		return pipeline.Analysis{}, err
	}
	return out, nil
}

// CheckKmods checks that each kmod's packages load on the kernel, and
// returns one verdict per kmod.
func (a *Activities) CheckKmods(ctx context.Context, in pipeline.CheckInput) ([]pipeline.KmodVerdict, error) {
	dir, done, err := a.tempDir("check")
	if err != nil {
		return nil, err
	}
	defer done()
	k, err := a.loadKernel(ctx, in.Kernel, filepath.Join(dir, "kernel"))
	if err != nil {
		return nil, err
	}
	var out []pipeline.KmodVerdict
	for _, name := range sortedKeys(in.Kmods) {
		v, paths, err := a.check(ctx, k, name, in.Kmods[name], filepath.Join(dir, "kmod-"+name), in.Policy)
		if err != nil {
			return nil, err
		}
		kv := pipeline.KmodVerdict{Name: name}
		setVerdict(&kv, v)
		if kv.BadSignatures, err = a.verifyModuleSignatures(paths); err != nil {
			return nil, err
		}
		out = append(out, kv)
	}
	return out, nil
}

func (a *Activities) loadKernel(ctx context.Context, rpms []pipeline.Artifact, dir string) (*kabi.ABI, error) {
	if err := mkdir(dir); err != nil {
		return nil, err
	}
	paths, err := getFiles(ctx, a.Artifacts, rpms, dir)
	if err != nil {
		return nil, err
	}
	abi, err := kabi.KernelFromFiles(paths)
	if err != nil {
		return nil, badInput(fmt.Errorf("kernel ABI: %w", err))
	}
	return abi, nil
}

// check merges what the kmod's packages need and checks it against k. It
// returns the packages' local paths too.
func (a *Activities) check(ctx context.Context, k *kabi.ABI, name string, rpms []pipeline.Artifact, dir string, p *kabi.Policy) (kabi.Verdict, []string, error) {
	km, paths, err := a.readKmod(ctx, name, rpms, dir)
	if err != nil {
		return kabi.Verdict{}, nil, err
	}
	return kabi.CheckPolicy(k, km, p), paths, nil
}

// readKmod fetches a kmod's packages into dir and merges what they need
// from the kernel. It returns the packages' local paths too.
func (a *Activities) readKmod(ctx context.Context, name string, rpms []pipeline.Artifact, dir string) (kabi.Kmod, []string, error) {
	if err := mkdir(dir); err != nil {
		return kabi.Kmod{}, nil, err
	}
	paths, err := getFiles(ctx, a.Artifacts, rpms, dir)
	if err != nil {
		return kabi.Kmod{}, nil, err
	}
	km := kabi.Kmod{Name: name}
	for _, p := range paths {
		if strings.HasSuffix(p, ".src.rpm") {
			continue
		}
		ks, err := kabi.LoadKmods(p)
		if err != nil {
			return kabi.Kmod{}, nil, badInput(fmt.Errorf("read kmod %s: %w", filepath.Base(p), err))
		}
		for _, x := range ks {
			km.Needs = append(km.Needs, x.Needs...)
			km.Modules = append(km.Modules, x.Modules...)
		}
	}
	return km, paths, nil
}

// verifyModuleSignatures checks every kernel module in the binary packages
// against the repository's module-signing certificate and returns what does
// not verify; nothing when this worker signs no modules.
func (a *Activities) verifyModuleSignatures(paths []string) ([]string, error) {
	if a.ModuleKey == nil {
		return nil, nil
	}
	var bad []string
	for _, p := range paths {
		if strings.HasSuffix(p, ".src.rpm") {
			continue
		}
		res, err := modsign.VerifyPackage(p, a.ModuleKey.Certificate())
		if err != nil {
			return nil, badInput(err)
		}
		bad = append(bad, res.Problems...)
	}
	return bad, nil
}

// setVerdict records v's outcome in the kmod's verdict.
func setVerdict(kv *pipeline.KmodVerdict, v kabi.Verdict) {
	kv.Compatible, kv.StablelistedBreaks, kv.Action = v.Compatible, v.StablelistedBreaks(), v.Action
	kv.Breaks, kv.Greylist = breakNames(v), len(v.Greylist)
}

// breakNames lists the breaks the policy does not ignore: the symbol for a
// removed or changed one, "module: sym (kind)" (or "module: kind") for a
// module's refusal; " (stablelisted)" marks symbols of the stablelist.
func breakNames(v kabi.Verdict) []string {
	var out []string
	for _, b := range append(append(append([]kabi.Break{}, v.Missing...), v.Mismatched...), v.Refused...) {
		if b.Action == kabi.ActionIgnore {
			continue
		}
		s := b.Name
		switch {
		case b.Object != "" && b.Name != "":
			s = fmt.Sprintf("%s: %s (%s)", b.Object, b.Name, b.Kind)
		case b.Object != "":
			s = fmt.Sprintf("%s: %s", b.Object, b.Kind)
		}
		if b.Stablelisted {
			s += " (stablelisted)"
		}
		out = append(out, s)
	}
	return out
}

// report is the JSON kABI report.
type report struct {
	Kernel   string            `json:"kernel"`
	Arch     string            `json:"arch"`
	Summary  pipeline.Analysis `json:"summary"`
	Delta    *kabi.Delta       `json:"delta,omitempty"`
	Verdicts []kabi.Verdict    `json:"verdicts"`
}

func (a *Activities) storeReport(ctx context.Context, in pipeline.AnalyzeInput, out *pipeline.Analysis, d *kabi.Delta, vs []kabi.Verdict) error {
	if vs == nil {
		vs = []kabi.Verdict{}
	}
	data, err := json.MarshalIndent(report{Kernel: in.KernelNVR, Arch: in.Arch, Summary: *out, Delta: d, Verdicts: vs}, "", "  ")
	if err != nil {
		return fmt.Errorf("encode kABI report: %w", err)
	}
	base := "kabi-" + in.KernelNVR + "." + in.Arch
	if out.ReportJSON, err = putBytes(ctx, a.Artifacts, KindReport, base+".json", data); err != nil {
		return err
	}
	out.Report, err = putBytes(ctx, a.Artifacts, KindReport, base+".txt", []byte(reportText(in, out)))
	return err
}

func reportText(in pipeline.AnalyzeInput, a *pipeline.Analysis) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kABI report: kernel %s (%s)\n", in.KernelNVR, in.Arch)
	if a.Previous == "" {
		fmt.Fprintf(&b, "no previously published kernel to compare with\n")
	} else {
		fmt.Fprintf(&b, "against %s: %d added, %d removed, %d CRC changed, %d export type or namespace changed, %d stablelisted changed\n",
			a.Previous, a.Added, a.Removed, a.Changed, len(a.ExportChanged), len(a.StablelistChanged))
		for _, s := range a.StablelistChanged {
			fmt.Fprintf(&b, "  stablelisted: %s\n", s)
		}
		for _, s := range a.ExportChanged {
			fmt.Fprintf(&b, "  export changed: %s\n", s)
		}
	}
	for _, k := range a.Kmods {
		switch {
		case k.Published == nil:
			fmt.Fprintf(&b, "kmod %s: no published build\n", k.Name)
		case k.Compatible:
			fmt.Fprintf(&b, "kmod %s: compatible (built for %s); %d greylisted symbols\n", k.Name, k.Published.KernelNVR, k.Greylist)
		default:
			fmt.Fprintf(&b, "kmod %s: BROKEN, %s (built for %s; %d greylisted symbols): %s\n", k.Name,
				k.PolicyAction(), k.Published.KernelNVR, k.Greylist, strings.Join(k.Breaks, ", "))
		}
	}
	return b.String()
}
