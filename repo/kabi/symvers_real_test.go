package kabi_test

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// joinChanges lists, with join and awk, the symbols of two Module.symvers
// files whose CRC is equal but whose export type or namespace differs, and
// counts the CRC changes: an independent reading of what Diff reports.
const joinChanges = `t="$(printf '\t')"
join -t "$t" -j 2 <(sort -t "$t" -k2,2 "$1") <(sort -t "$t" -k2,2 "$2") |
	awk -F'\t' '$2 == $6 && ($4 != $8 || $5 != $9) { print $1 }; $2 != $6 { n++ } END { print "crc=" n+0 }'`

func exportChangeNames(d *kabi.Delta) []string {
	var out []string
	for _, c := range d.ExportChanged {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

// TestRealSymversExportTypesAndNamespaces reads the real -47 and -57
// Module.symvers: export types and namespaces as awk counts them, and the
// export-type/namespace changes between them as join computes them (none
// between these two); then a variant of -57 made by awk (some exports made
// GPL-only, some moved into a namespace) gives the changes join finds.
func TestRealSymversExportTypesAndNamespaces(t *testing.T) {
	testutil.RequireTool(t, "join")
	old, new := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	a, b := readSymvers(t, old.Symvers()), readSymvers(t, new.Symvers())
	for _, k := range []*kabi.ABI{a, b} {
		ns, gpl := 0, 0
		for _, s := range k.Symbols() {
			if s.Namespace != "" {
				ns++
			}
			if strings.HasSuffix(s.Export, "_GPL") {
				gpl++
			}
		}
		want := shell(t, `awk -F'\t' '$5 != "" { n++ } $4 ~ /_GPL$/ { g++ } END { print n+0, g+0 }' "$1"`, k.Name)
		if got := strings.Join([]string{strconv.Itoa(ns), strconv.Itoa(gpl)}, " "); got != want || ns == 0 {
			t.Errorf("%s: namespaced, GPL-only = %s, awk says %s", k.Name, got, want)
		}
		t.Logf("%s: %d symbols, %d namespaced, %d GPL-only", filepath.Base(filepath.Dir(k.Name)), k.Len(), ns, gpl)
	}
	check := func(oldPath, newPath string, d *kabi.Delta) {
		t.Helper()
		want := strings.Split(shell(t, joinChanges, oldPath, newPath), "\n")
		crc := want[len(want)-1]
		if got := "crc=" + strconv.Itoa(len(d.CRCChanged)); got != crc {
			t.Errorf("%s → %s: %s, join says %s", oldPath, newPath, got, crc)
		}
		if got, w := strings.Join(exportChangeNames(d), " "), strings.Join(want[:len(want)-1], " "); got != w {
			t.Errorf("%s → %s: export changes %q, join says %q", oldPath, newPath, got, w)
		}
	}
	check(old.Symvers(), new.Symvers(), kabi.Diff(a, b))

	variant := filepath.Join(t.TempDir(), "Module.symvers")
	out := shell(t, `awk -F'\t' 'BEGIN { OFS = "\t" }
		NR % 997 == 1 && $4 == "EXPORT_SYMBOL" { $4 = "EXPORT_SYMBOL_GPL" }
		NR % 997 == 2 && $5 == "" { $5 = "KABIFORGE_TEST" }
		{ print }' "$1"`, new.Symvers())
	if err := os.WriteFile(variant, []byte(out+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	d := kabi.Diff(b, readSymvers(t, variant))
	if len(d.ExportChanged) == 0 {
		t.Fatal("the variant changes no export")
	}
	check(new.Symvers(), variant, d)
	for _, c := range d.ExportChanged {
		if c.Old.CRC != c.New.CRC || (c.Old.Export == c.New.Export && c.Old.Namespace == c.New.Namespace) {
			t.Errorf("%s: %+v -> %+v", c.Name, *c.Old, *c.New)
		}
	}
}

func readSymvers(t *testing.T, path string) *kabi.ABI {
	t.Helper()
	abi, err := kabi.ReadSymversFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return abi
}
