package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"

	"go.temporal.io/sdk/temporal"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/drift"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// ListReferences lists every package a source offers (kernel-core RPMs of
// a compose as well as SRPMs). A listing that cannot be read as one (bad
// input, not an outage) is returned as a problem, so the watch reports it
// instead of failing.
func (a *Activities) ListReferences(ctx context.Context, name string) (pipeline.Listing, error) {
	src, err := a.source(name)
	if err != nil {
		return pipeline.Listing{}, err
	}
	pkgs, err := src.Source.List(ctx)
	if err != nil {
		err = classify("list source "+name, err)
		if isBadInput(err) {
			return pipeline.Listing{Packages: []pipeline.SourcePackage{}, Problems: []string{problem(err)}}, nil
		}
		return pipeline.Listing{}, err
	}
	out := pipeline.Listing{Packages: make([]pipeline.SourcePackage, 0, len(pkgs))}
	for _, p := range pkgs {
		out.Packages = append(out.Packages, FromSource(p))
	}
	return out, nil
}

// DriftCheck reads a reference kernel's kABI on each arch and every kmod
// the repository publishes for the stream, decides which break
// (drift.Decide) and stores the report in the artifact store. What cannot
// be read (a kernel without kABI data, a kmod package that is no RPM)
// becomes a report entry naming it; only outages fail the activity.
func (a *Activities) DriftCheck(ctx context.Context, in pipeline.DriftCheckInput) (pipeline.DriftSummary, error) {
	repo, err := a.repository(in.Repository)
	if err != nil {
		return pipeline.DriftSummary{}, err
	}
	dir, done, err := a.tempDir("drift")
	if err != nil {
		return pipeline.DriftSummary{}, err
	}
	defer done()
	pub, err := loadProvenance(ctx, repo.Store)
	if err != nil {
		return pipeline.DriftSummary{}, err
	}
	d := drift.Input{Stream: in.Stream, KernelNVR: in.KernelNVR, Arches: in.Arches, Policy: in.Policy, Problems: in.Problems}
	for _, arch := range in.Arches {
		adir := filepath.Join(dir, arch)
		k := drift.Kernel{Arch: arch, Problem: in.KernelProblems[arch]}
		if rpms := in.Kernel[arch]; len(rpms) > 0 {
			k.Package = rpms[0].Name
			if k.ABI, k.Problem, err = a.readABI(ctx, rpms, filepath.Join(adir, "kernel")); err != nil {
				return pipeline.DriftSummary{}, err
			}
		}
		if k.ABI != nil || k.Problem != "" {
			d.Kernels = append(d.Kernels, k)
		}
		newest := pub.NewestKernel(arch)
		if newest != nil {
			p := drift.Published{Arch: arch, NVR: newest.KernelNVR}
			if p.ABI, p.Problem, err = a.readABI(ctx, newest.RPMs, filepath.Join(adir, "published")); err != nil {
				return pipeline.DriftSummary{}, err
			}
			d.Published = append(d.Published, p)
		}
		for i, spec := range in.Kmods {
			b := pub.Kmod(arch, spec.Name)
			if b == nil {
				continue
			}
			m := drift.Kmod{Name: spec.Name, Arch: arch, BuiltFor: b.KernelNVR}
			for _, r := range b.RPMs {
				m.Packages = append(m.Packages, r.Name)
			}
			km, _, err := a.readKmod(ctx, spec.Name, b.RPMs, filepath.Join(adir, fmt.Sprint("kmod", i)))
			switch {
			case isBadInput(err):
				m.Problem = problem(err)
			case err != nil:
				return pipeline.DriftSummary{}, err
			default:
				m.Needs = &km
			}
			d.Kmods = append(d.Kmods, m)
		}
	}
	r := drift.Decide(d)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return pipeline.DriftSummary{}, fmt.Errorf("encode drift report: %w", err)
	}
	out := summarize(r)
	if out.Report, err = putBytes(ctx, a.Artifacts, KindReport, "drift-"+in.KernelNVR+".json", append(data, '\n')); err != nil {
		return pipeline.DriftSummary{}, err
	}
	return out, nil
}

// readABI reads a kernel's ABI from its packages; a kernel that cannot be
// read as one is returned as a problem, an outage as an error.
func (a *Activities) readABI(ctx context.Context, rpms []pipeline.Artifact, dir string) (*kabi.ABI, string, error) {
	abi, err := a.loadKernel(ctx, rpms, dir)
	if isBadInput(err) {
		return nil, problem(err), nil
	}
	return abi, "", err
}

// summarize is the short form of a drift report the workflow keeps.
func summarize(r drift.Report) pipeline.DriftSummary {
	out := pipeline.DriftSummary{Broken: r.Broken, Unknown: r.Unknown, Kmods: []pipeline.DriftKmod{}, Problems: r.Problems}
	for _, a := range r.Arches {
		if a.Problem != "" {
			out.Problems = append(out.Problems, a.Arch+": "+a.Problem)
		}
		for _, k := range a.Kmods {
			dk := pipeline.DriftKmod{Name: k.Name, Arch: a.Arch, State: string(k.State), Problem: k.Problem}
			for _, b := range k.Breaks {
				s := b.Name + " (" + string(b.Kind) + ")"
				if b.Stablelisted {
					s += " (stablelisted)"
				}
				dk.Breaks = append(dk.Breaks, s)
			}
			out.Kmods = append(out.Kmods, dk)
		}
	}
	return out
}

// problem is what a refused input's error says, for a report entry.
func problem(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		return app.Message()
	}
	return err.Error()
}

// isBadInput reports whether err is a non-retryable refusal of the input
// (bad input or a signature), as opposed to an outage.
func isBadInput(err error) bool {
	t, ok := appErrorType(err)
	return ok && (t == ErrBadInput || t == ErrSignature)
}
