package kabi

import (
	"fmt"
	"sort"
)

// Change is one symbol that differs between two ABIs.
type Change struct {
	Name string  `json:"name"`
	Old  *Symbol `json:"old,omitempty"` // nil for an added symbol
	New  *Symbol `json:"new,omitempty"` // nil for a removed symbol
	// Stablelisted reports whether either side's stablelist holds the symbol:
	// a stablelisted removal or CRC change breaks Red Hat's promise.
	Stablelisted bool `json:"stablelisted"`
}

// Delta is what changed from one ABI to the next. Each list is sorted with
// stablelisted symbols first, then by name.
type Delta struct {
	Old string `json:"old"`
	New string `json:"new"`
	// Added symbols are exported only by the new ABI.
	Added []Change `json:"added"`
	// Removed symbols are exported only by the old ABI: kmods using them break.
	Removed []Change `json:"removed"`
	// CRCChanged symbols are in both with different CRCs: kmods using them break.
	CRCChanged []Change `json:"crc_changed"`
	// ExportChanged symbols kept their CRC but changed export type (e.g. became
	// GPL-only) or namespace, which can stop a kmod from loading too.
	ExportChanged []Change `json:"export_changed"`
}

// Broken reports whether any change can stop a kmod built for the old ABI
// from loading on the new one.
func (d *Delta) Broken() bool {
	return len(d.Removed)+len(d.CRCChanged)+len(d.ExportChanged) > 0
}

// Empty reports whether the two ABIs export the same symbols alike.
func (d *Delta) Empty() bool { return !d.Broken() && len(d.Added) == 0 }

// Diff compares the old and new ABIs symbol by symbol.
func Diff(old, new *ABI) *Delta {
	d := &Delta{Old: old.Name, New: new.Name, // [] rather than null in JSON
		Added: []Change{}, Removed: []Change{}, CRCChanged: []Change{}, ExportChanged: []Change{}}
	for _, o := range old.list {
		i, ok := new.index[o.Name]
		if !ok {
			stable := o.Stablelisted || new.Stablelisted(o.Name)
			d.Removed = append(d.Removed, Change{Name: o.Name, Old: ptr(o), Stablelisted: stable})
			continue
		}
		n := &new.list[i]
		switch {
		case o.CRC != n.CRC:
			d.CRCChanged = append(d.CRCChanged, changed(o, *n))
		case exportChanged(o, *n):
			d.ExportChanged = append(d.ExportChanged, changed(o, *n))
		}
	}
	if len(new.list) > len(old.list)-len(d.Removed) { // some symbols are new
		for _, n := range new.list {
			if !old.has(n.Name) {
				d.Added = append(d.Added, Change{Name: n.Name, New: ptr(n), Stablelisted: n.Stablelisted})
			}
		}
	}
	for _, l := range [][]Change{d.Added, d.Removed, d.CRCChanged, d.ExportChanged} {
		sortChanges(l)
	}
	return d
}

// exportChanged reports a change of export type or namespace, when both
// sides know them (RPM Provides carry neither).
func exportChanged(o, n Symbol) bool {
	if o.Export == "" || n.Export == "" {
		return false
	}
	return o.Export != n.Export || o.Namespace != n.Namespace
}

func sortChanges(l []Change) {
	sort.Slice(l, func(i, j int) bool {
		if l[i].Stablelisted != l[j].Stablelisted {
			return l[i].Stablelisted
		}
		return l[i].Name < l[j].Name
	})
}

func changed(o, n Symbol) Change {
	return Change{Name: o.Name, Old: ptr(o), New: ptr(n), Stablelisted: o.Stablelisted || n.Stablelisted}
}

func ptr(s Symbol) *Symbol { return &s }

// Detail says what changed, for people: the CRC of an added or removed
// symbol, "old -> new" CRCs, or the export types with namespaces in
// parentheses ("EXPORT_SYMBOL -> EXPORT_SYMBOL_GPL(DMA_BUF)").
func (c Change) Detail() string {
	switch {
	case c.Old == nil && c.New == nil:
		return ""
	case c.Old == nil:
		return c.New.CRC.String()
	case c.New == nil:
		return c.Old.CRC.String()
	case c.Old.CRC != c.New.CRC:
		return fmt.Sprintf("%v -> %v", c.Old.CRC, c.New.CRC)
	}
	return c.Old.exportString() + " -> " + c.New.exportString()
}

// exportString is the export type with the namespace in parentheses.
func (s *Symbol) exportString() string {
	if s.Namespace == "" {
		return s.Export
	}
	return s.Export + "(" + s.Namespace + ")"
}
