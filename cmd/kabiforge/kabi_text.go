package main

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

// listTag names the side of the stablelist a symbol is on: "greylist" is
// ELRepo's word for symbols used off the list.
func listTag(stablelisted bool) string {
	if stablelisted {
		return "stablelist"
	}
	return "greylist"
}

func countStable(l []kabi.Change) int {
	n := 0
	for _, c := range l {
		if c.Stablelisted {
			n++
		}
	}
	return n
}

// writeDelta prints a diff for people: a summary, then the breaks
// (stablelisted first), then the additions.
func writeDelta(w io.Writer, d *kabi.Delta) {
	fmt.Fprintf(w, "kABI diff %s -> %s\n", d.Old, d.New)
	groups := []struct {
		title string
		l     []kabi.Change
	}{{"removed", d.Removed}, {"CRC changed", d.CRCChanged}, {"export changed", d.ExportChanged}, {"added", d.Added}}
	breaks, stable := 0, 0
	for _, g := range groups[:3] {
		breaks += len(g.l)
		stable += countStable(g.l)
	}
	switch {
	case breaks > 0:
		fmt.Fprintf(w, "BREAK: %d symbols removed or changed, %d of them stablelisted; %d added\n", breaks, stable, len(d.Added))
	case len(d.Added) > 0:
		fmt.Fprintf(w, "compatible: nothing removed or changed; %d symbols added\n", len(d.Added))
	default:
		fmt.Fprintln(w, "no change")
	}
	for _, g := range groups {
		if len(g.l) == 0 {
			continue
		}
		fmt.Fprintf(w, "\n%s: %d (%d stablelisted)\n", g.title, len(g.l), countStable(g.l))
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, c := range g.l {
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", listTag(c.Stablelisted), c.Name, c.Detail(), changeModule(c))
		}
		tw.Flush()
	}
}

func changeModule(c kabi.Change) string {
	if c.New != nil && c.New.Module != "" {
		return c.New.Module
	}
	if c.Old != nil {
		return c.Old.Module
	}
	return ""
}

// writeCheck prints a check for people: the summary, then the broken kmods
// (those breaking on stablelisted symbols first), then the compatible ones.
func writeCheck(w io.Writer, r checkReport) {
	fmt.Fprintf(w, "kernel %s: %d symbols, %d on the stablelist\n", r.Kernel, r.Symbols, r.Stablelist)
	var broken, ok []kabi.Verdict
	for _, v := range r.Kmods {
		if v.Compatible {
			ok = append(ok, v)
		} else {
			broken = append(broken, v)
		}
	}
	sortVerdicts(broken)
	fmt.Fprintf(w, "%d of %d kmods broken, %d compatible\n", len(broken), len(r.Kmods), len(ok))
	for _, v := range broken {
		fmt.Fprintf(w, "\nBROKEN %s (%s): %d missing, %d mismatched of %d symbols, %d refused (%d stablelisted); %s\n",
			v.Kmod, v.Action, len(v.Missing), len(v.Mismatched), v.Checked, len(v.Refused), v.StablelistedBreaks(), greyCount(v))
		writeBreaks(w, v)
	}
	if len(ok) > 0 {
		fmt.Fprintln(w)
	}
	for _, v := range ok {
		fmt.Fprintf(w, "ok %s: %d symbols; %s\n", v.Kmod, v.Checked, greyCount(v))
		writeBreaks(w, v) // breaks the policy ignores
	}
}

// writeBreaks lists a verdict's breaks, stablelisted ones first.
func writeBreaks(w io.Writer, v kabi.Verdict) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, b := range mergeBreaks(v) {
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s%s\n", listTag(b.Stablelisted), kindWord(b.Kind), breakSubject(b), breakDetail(b), actionNote(b.Action))
	}
	tw.Flush()
}

// kindWord names a break's kind: mismatched and missing for CRC breaks,
// else the kind.
func kindWord(k kabi.Kind) string {
	switch k {
	case kabi.KindCRC:
		return "mismatched"
	case kabi.KindRemoved:
		return "missing"
	}
	return string(k)
}

// actionNote marks breaks whose policy action is not the default.
func actionNote(a kabi.Action) string {
	switch a {
	case kabi.ActionIgnore:
		return " (ignored by policy)"
	case kabi.ActionHoldGate:
		return " (holds the gate)"
	}
	return ""
}

// greyCount says how many used symbols are off the stablelist.
func greyCount(v kabi.Verdict) string {
	if v.Greylist == nil {
		return "no stablelist"
	}
	return fmt.Sprintf("%d greylisted symbols", len(v.Greylist))
}

func breakSubject(b kabi.Break) string {
	switch {
	case b.Object == "":
		return b.Name
	case b.Name == "":
		return b.Object
	}
	return b.Object + ": " + b.Name
}

// mergeBreaks lists a verdict's breaks, stablelisted ones first.
func mergeBreaks(v kabi.Verdict) []kabi.Break {
	all := v.Breaks()
	out := make([]kabi.Break, 0, len(all))
	for _, stable := range []bool{true, false} {
		for _, b := range all {
			if b.Stablelisted == stable {
				out = append(out, b)
			}
		}
	}
	return out
}

func breakDetail(b kabi.Break) string {
	if b.Detail != "" {
		return b.Detail
	}
	want := "any CRC"
	if b.HasCRC {
		want = b.Want.String()
	}
	if b.Kind == kabi.KindRemoved {
		return "want " + want + ", not exported"
	}
	return fmt.Sprintf("want %s, kernel has %v", want, b.Have)
}

// sortVerdicts orders broken kmods by stablelisted breaks, most first.
func sortVerdicts(l []kabi.Verdict) {
	for i := 1; i < len(l); i++ {
		for j := i; j > 0 && l[j].StablelistedBreaks() > l[j-1].StablelistedBreaks(); j-- {
			l[j], l[j-1] = l[j-1], l[j]
		}
	}
}
