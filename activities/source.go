package activities

import (
	"context"
	"fmt"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/source"
)

// ListSource returns the source packages a configured source offers.
func (a *Activities) ListSource(ctx context.Context, name string) ([]pipeline.SourcePackage, error) {
	src, err := a.source(name)
	if err != nil {
		return nil, err
	}
	pkgs, err := src.Source.List(ctx)
	if err != nil {
		return nil, classify("list source "+name, err)
	}
	out := make([]pipeline.SourcePackage, 0, len(pkgs))
	for _, p := range pkgs {
		if !p.IsSource() {
			continue
		}
		out = append(out, FromSource(p))
	}
	return out, nil
}

// FetchSRPM fetches one source package into the artifact store, verifying
// its size, checksum and signature first.
func (a *Activities) FetchSRPM(ctx context.Context, in pipeline.FetchInput) (pipeline.Fetched, error) {
	src, err := a.source(in.Source)
	if err != nil {
		return pipeline.Fetched{}, err
	}
	dir, done, err := a.tempDir("fetch")
	if err != nil {
		return pipeline.Fetched{}, err
	}
	defer done()
	opts := src.Fetch
	opts.TempDir = dir
	f, err := source.Fetch(ctx, src.Source, toSource(in.Package), a.Artifacts, opts)
	if err != nil {
		return pipeline.Fetched{}, classify("fetch "+in.Package.NVR(), err)
	}
	out := pipeline.Fetched{Artifact: pipeline.Artifact{Key: f.Key, SHA256: f.SHA256, Name: in.Package.Location, Size: f.Size}}
	out.Name = source.Package{Location: in.Package.Location}.Filename()
	for _, s := range f.Signatures {
		out.Signers = append(out.Signers, s.KeyID)
	}
	return out, nil
}

// FetchNewest fetches the newest source package named in.Package that
// in.Source offers.
func (a *Activities) FetchNewest(ctx context.Context, in pipeline.KmodSourceInput) (pipeline.Fetched, error) {
	pkgs, err := a.ListSource(ctx, in.Source)
	if err != nil {
		return pipeline.Fetched{}, err
	}
	var best *pipeline.SourcePackage
	for i, p := range pkgs {
		if p.Name != in.Package {
			continue
		}
		if best == nil || rpm.CompareEVR(p.Epoch, p.Version, p.Release, best.Epoch, best.Version, best.Release) > 0 {
			best = &pkgs[i]
		}
	}
	if best == nil {
		return pipeline.Fetched{}, badInput(fmt.Errorf("source %s offers no source package %s", in.Source, in.Package))
	}
	return a.FetchSRPM(ctx, pipeline.FetchInput{Source: in.Source, Package: *best})
}

// FromSource returns a listed package as the workflows see it.
func FromSource(p source.Package) pipeline.SourcePackage {
	return pipeline.SourcePackage{Name: p.NEVRA.Name, Epoch: p.NEVRA.Epoch, Version: p.NEVRA.Version,
		Release: p.NEVRA.Release, Arch: p.NEVRA.Arch, Location: p.Location, Size: p.Size,
		ChecksumType: p.Checksum.Type, ChecksumHex: p.Checksum.Hex, Vouched: p.Vouched}
}

func toSource(p pipeline.SourcePackage) source.Package {
	return source.Package{NEVRA: rpm.NEVRA{Name: p.Name, Epoch: p.Epoch, Version: p.Version, Release: p.Release, Arch: p.Arch},
		Location: p.Location, Size: p.Size, Checksum: source.Checksum{Type: p.ChecksumType, Hex: p.ChecksumHex}, Vouched: p.Vouched}
}
