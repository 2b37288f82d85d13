package boot

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestOrderAgreesWithModinfo orders a real in-tree module with three levels
// of dependencies and checks the result against modinfo's depends= read
// by kmod's own tool: the same set of modules, each after its dependencies.
func TestOrderAgreesWithModinfo(t *testing.T) {
	modinfo := testutil.RequireTool(t, "modinfo")
	tree := kftest.Need(t, newABI)
	paths, _ := filepath.Glob(filepath.Join(tree.ModulesDir(), "kernel", "drivers", "comedi", "drivers", "ni_660x.ko*"))
	if len(paths) != 1 {
		t.Fatalf("ni_660x in %s: %v", tree.ModulesDir(), paths)
	}
	mods, err := Order(paths, tree.ModulesDir())
	if err != nil {
		t.Fatal(err)
	}
	index := map[string]string{}
	for _, m := range mods {
		index[m.Name] = m.Path
	}
	// The closure by modinfo, walked from ni_660x.
	want := map[string]bool{}
	var walk func(name, path string)
	walk = func(name, path string) {
		if want[name] {
			return
		}
		want[name] = true
		out, err := exec.Command(modinfo, "-F", "depends", path).Output()
		if err != nil {
			t.Fatalf("modinfo %s: %v", path, err)
		}
		for _, d := range strings.Split(strings.TrimSpace(string(out)), ",") {
			if d == "" {
				continue
			}
			p, ok := index[d]
			if !ok {
				t.Errorf("%s depends on %s (modinfo), missing from the order", name, d)
				continue
			}
			if slices.IndexFunc(mods, func(m Module) bool { return m.Name == d }) > slices.IndexFunc(mods, func(m Module) bool { return m.Name == name }) {
				t.Errorf("%s ordered before its dependency %s", name, d)
			}
			walk(d, p)
		}
	}
	walk("ni_660x", paths[0])
	if len(want) != len(mods) || len(mods) < 5 {
		t.Errorf("order has %d modules %v, modinfo's closure %d", len(mods), mods, len(want))
	}
	if mods[len(mods)-1].Name != "ni_660x" {
		t.Errorf("last %s, want ni_660x", mods[len(mods)-1].Name)
	}
}
