package pipeline

import "strings"

// KabiSummary is the short form of a rebuild's kABI analyses, over every
// arch.
type KabiSummary struct {
	Previous          string   `json:"previous,omitempty"`
	Added             int      `json:"added"`
	Removed           int      `json:"removed"`
	Changed           int      `json:"changed"`
	StablelistChanged []string `json:"stablelist_changed,omitempty"`
	// ExportChanged are the symbols that kept their CRC but changed export
	// type or namespace, "name: old -> new".
	ExportChanged []string `json:"export_changed,omitempty"`
	Broken        []string `json:"broken,omitempty"`
	// Held are the kmod breaks the stream's kABI policy holds the gate for.
	Held    []string   `json:"held,omitempty"`
	Reports []Artifact `json:"reports,omitempty"`
}

// KmodDecision is what the analyses decide for one kmod.
type KmodDecision struct {
	// Rebuild says why the kmod is rebuilt (RebuildReason, the last arch
	// that gave one), "" when its published builds are kept.
	Rebuild string
	// Published is its published build per arch, when it has one.
	Published map[string]*Published
	// Breaks are the symbols that broke its published builds.
	Breaks []string
	// Greylist is the most symbols a build of it uses off the stablelist.
	Greylist int
}

// AnalysisDecision is what a rebuild's kABI analyses, one per arch,
// decide: the summary the status shows, and per kmod whether it is
// rebuilt.
type AnalysisDecision struct {
	Kabi  KabiSummary
	Kmods map[string]KmodDecision
	// Broken is true when a published kmod broke or a stablelisted symbol
	// changed.
	Broken bool
}

// DecideAnalysis merges the analyses of every arch, in order, for the
// kmods of a plan; verdicts on kmods the plan does not hold are ignored.
func DecideAnalysis(kmods []KmodSpec, analyses []Analysis) AnalysisDecision {
	d := AnalysisDecision{Kmods: map[string]KmodDecision{}}
	specs := map[string]KmodSpec{}
	for _, k := range kmods {
		specs[k.Name] = k
		d.Kmods[k.Name] = KmodDecision{Published: map[string]*Published{}}
	}
	seen := map[string]bool{}
	unique := func(list *[]string, kind string, items []string) {
		for _, s := range items {
			if !seen[kind+s] {
				seen[kind+s] = true
				*list = append(*list, s)
			}
		}
	}
	k := &d.Kabi
	for _, an := range analyses {
		k.Previous, k.Added, k.Removed, k.Changed = an.Previous, max(k.Added, an.Added), max(k.Removed, an.Removed), max(k.Changed, an.Changed)
		unique(&k.StablelistChanged, "stablelist ", an.StablelistChanged)
		unique(&k.ExportChanged, "export ", an.ExportChanged)
		k.Reports = append(k.Reports, an.Report, an.ReportJSON)
		for _, v := range an.Kmods {
			spec, ok := specs[v.Name]
			if !ok {
				continue
			}
			m := d.Kmods[v.Name]
			m.Published[an.Arch] = v.Published
			if why := RebuildReason(spec, v); why != "" {
				m.Rebuild = why
			}
			if v.Published != nil || v.Compatible {
				m.Greylist = max(m.Greylist, v.Greylist)
			}
			if v.Published != nil && !v.Compatible {
				m.Breaks = append(m.Breaks, v.Breaks...)
				d.Broken = true
				k.Broken = append(k.Broken, v.Name)
				if v.HoldsGate() {
					k.Held = append(k.Held, v.Name+" on "+an.Arch+": "+strings.Join(v.Breaks, ", "))
				}
			}
			d.Kmods[v.Name] = m
		}
	}
	if len(k.StablelistChanged) > 0 {
		d.Broken = true
	}
	return d
}
