package activities

import (
	"cmp"
	"fmt"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/compat"
	"github.com/kabiforge/kabiforge/repo/drift"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/repodata"
)

// Keys of what the compatibility page reads and links in a repository.
const (
	// OutcomePrefix holds each published kernel's outcome (kmod states).
	OutcomePrefix = ".kabiforge/kernels/"
	// ReportPrefix holds the published kernels' kABI reports.
	ReportPrefix = "reports/"
	// DriftPrefix holds the reference kernels' drift reports.
	DriftPrefix = "drift/"
)

// OutcomeKey is the key of a kernel's outcome record.
func OutcomeKey(kernelVR string) string { return OutcomePrefix + kernelVR + ".json" }

// compatInput is everything the compatibility page is made of.
type compatInput struct {
	Repo, BaseURL string
	Revision      string
	SecureBoot    bool
	// Packages are the repository's packages in this revision.
	Packages []*repodata.Package
	// Records are the provenance records, Outcomes the kernels' outcomes
	// and Drifts the reference kernels' reports, as stored.
	Records  []pipeline.Provenance
	Outcomes map[string]pipeline.KernelOutcome
	Drifts   []drift.Report
}

// compatPage decides what the page says: one row per published kernel
// and arch (built / kept and proven compatible / excluded with the reason
// for each kmod), one per reference kernel and arch with its drift, the
// links and the install lines. A pure function of what is published.
func compatPage(in compatInput) compat.Page {
	rev, _ := strconv.ParseInt(in.Revision, 10, 64)
	p := compat.Page{Repo: in.Repo, BaseURL: in.BaseURL, Revision: in.Revision, Generated: time.Unix(rev, 0).UTC(),
		Install: installLines(in), Kernels: []compat.Kernel{}}
	present := map[string]*repodata.Package{}
	for _, pkg := range in.Packages {
		present[path.Base(pkg.Location)] = pkg
	}
	type build struct {
		rec     pipeline.Provenance
		version string
	}
	kmods := map[string][]build{}
	type row struct{ nvr, arch, rpm string }
	var rows []row
	for _, r := range in.Records {
		pkg := present[r.RPM.Name]
		if pkg == nil {
			continue
		}
		switch {
		case r.Kind == pipeline.KindKmod:
			kmods[r.Kmod] = append(kmods[r.Kmod], build{r, pkg.Version + "-" + pkg.Release})
		case r.Kind == pipeline.KindKernel && pkg.Arch != "noarch" && pkg.Arch != "src" &&
			!slices.ContainsFunc(rows, func(x row) bool { return x.nvr == r.KernelNVR && x.arch == pkg.Arch }):
			rows = append(rows, row{r.KernelNVR, pkg.Arch, r.RPM.Name})
		}
	}
	for _, rw := range rows {
		k := compat.Kernel{NVR: rw.nvr, Arch: rw.arch, Kind: compat.Published, Kmods: map[string]compat.Cell{},
			Links: []compat.Link{{Label: "provenance", Href: provenance.Key(rw.rpm)}}}
		o, hasOutcome := in.Outcomes[rw.nvr]
		for _, rep := range o.Reports {
			if strings.HasSuffix(rep.Name, "."+rw.arch+".json") {
				k.Links = append(k.Links, compat.Link{Label: "kABI report", Href: ReportPrefix + rep.Name})
			}
		}
		names := slices.Collect(func(yield func(string) bool) {
			for n := range kmods {
				yield(n)
			}
			for n := range o.Kmods {
				yield(n)
			}
		})
		slices.Sort(names)
		for _, name := range slices.Compact(names) {
			var own, kept *build
			for i, b := range kmods[name] {
				a := path.Ext(strings.TrimSuffix(b.rec.RPM.Name, ".rpm"))
				if a != "."+rw.arch && a != ".noarch" {
					continue
				}
				switch c := provenance.CompareKernel(b.rec.KernelNVR, rw.nvr); {
				case c == 0:
					own = &kmods[name][i]
				case c < 0 && (kept == nil || provenance.CompareKernel(b.rec.KernelNVR, kept.rec.KernelNVR) > 0):
					kept = &kmods[name][i]
				}
			}
			ko := o.Kmods[name]
			switch {
			case ko.State == pipeline.StateExcluded || ko.State == pipeline.StateFailed:
				k.Kmods[name] = compat.Cell{State: compat.Excluded, Reason: ko.Reason}
			case own != nil:
				k.Kmods[name] = compat.Cell{State: compat.Rebuilt, Version: own.version, Reason: ko.Reason, Link: provenance.Key(own.rec.RPM.Name),
					Greylisted: ko.Greylist}
			case hasOutcome && ko.State == pipeline.StateCompatible && kept != nil:
				k.Kmods[name] = compat.Cell{State: compat.Kept, Version: kept.version,
					Reason: cmp.Or(ko.Reason, "proven compatible") + "; built for " + kept.rec.KernelNVR, Link: provenance.Key(kept.rec.RPM.Name),
					Greylisted: ko.Greylist}
			case hasOutcome && ko.State == pipeline.StateCompatible:
				k.Kmods[name] = compat.Cell{State: compat.Unknown, Reason: "kept, but its build is no longer in the repository"}
			}
		}
		p.Kernels = append(p.Kernels, k)
	}
	for _, d := range in.Drifts {
		p.Kernels = append(p.Kernels, driftRows(d)...)
	}
	return p
}

// driftRows are a reference kernel's rows: one per arch.
func driftRows(d drift.Report) []compat.Kernel {
	link := DriftPrefix + d.KernelNVR + ".json"
	var out []compat.Kernel
	for _, a := range d.Arches {
		k := compat.Kernel{NVR: d.KernelNVR, Arch: a.Arch, Kind: compat.Reference, Stream: d.Stream, Kmods: map[string]compat.Cell{},
			Links: []compat.Link{{Label: "drift report", Href: link}}}
		notes := slices.Clone(d.Problems)
		if a.Problem != "" {
			notes = append(notes, a.Problem)
		}
		if c := a.Against; c != nil && c.Problem == "" {
			notes = append(notes, fmt.Sprintf("against %s: %d changed, %d removed, %d added", c.Published, c.Changed, c.Removed, c.Added))
		}
		k.Note = strings.Join(notes, "; ")
		for _, m := range a.Kmods {
			c := compat.Cell{State: compat.State(m.State), Reason: m.Problem, Link: link, Greylisted: m.Greylisted}
			if m.BuiltFor != "" && m.Problem == "" {
				c.Reason = "built for " + m.BuiltFor
			}
			for _, b := range m.Breaks {
				s := b.Name
				if b.Kind != "crc" {
					s += " (" + string(b.Kind) + ")"
				}
				if b.Stablelisted {
					s += " (stablelisted)"
				}
				c.Symbols = append(c.Symbols, s)
			}
			k.Kmods[m.Name] = c
		}
		out = append(out, k)
	}
	return out
}

// installLines are the shell lines that install the repository, its key,
// its Secure Boot certificate and the kmods.
func installLines(in compatInput) []string {
	base := strings.TrimSuffix(in.BaseURL, "/") + "/"
	lines := []string{
		"sudo curl -o /etc/yum.repos.d/" + publish.RepoFileKey(in.Repo) + " " + base + publish.RepoFileKey(in.Repo),
		"sudo rpm --import " + base + publish.KeyFileKey(in.Repo),
	}
	if in.SecureBoot {
		lines = append(lines, "sudo curl -o /root/"+publish.ModuleCertKey(in.Repo)+" "+base+publish.ModuleCertKey(in.Repo)+" && sudo mokutil --import /root/"+publish.ModuleCertKey(in.Repo))
	}
	var names []string
	for _, pkg := range in.Packages {
		if strings.HasPrefix(pkg.Name, "kmod-") && !slices.Contains(names, pkg.Name) {
			names = append(names, pkg.Name)
		}
	}
	slices.Sort(names)
	return append(lines, strings.TrimSpace("sudo dnf install kernel-core "+strings.Join(names, " ")))
}
