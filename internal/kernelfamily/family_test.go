package kernelfamily_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

const abi = "6.1.0-47"

func TestValidABI(t *testing.T) {
	for _, tc := range []struct {
		abi string
		ok  bool
	}{
		{"6.1.0-47", true},
		{"6.10.0-1", true},
		{"6.1.0", false},
		{"6.1.0-47-cloud-amd64", false},
		{"../6.1.0-47", false},
		{"", false},
	} {
		err := kernelfamily.ValidABI(tc.abi)
		if (err == nil) != tc.ok {
			t.Errorf("ValidABI(%q) = %v, want ok=%v", tc.abi, err, tc.ok)
		}
	}
	f := &kernelfamily.Fetcher{Dir: t.TempDir()}
	if _, err := f.Tree(context.Background(), "6.1.0-47/../x"); err == nil || !strings.Contains(err.Error(), "6.1.0-47/../x") {
		t.Errorf("Tree of a bad ABI: err %v, want one naming it", err)
	}
}

// TestTreeBuildsModule builds a module against the real headers and checks
// the CRCs it records against the ABI's Module.symvers, both read by other
// tools (modprobe, a plain field split).
func TestTreeBuildsModule(t *testing.T) {
	tree := kftest.Need(t, abi)
	for _, p := range []string{tree.Vmlinuz(), tree.SystemMap(), tree.Config(), tree.Symvers(),
		filepath.Join(tree.ModulesDir(), "modules.order"), filepath.Join(tree.ModulesDir(), "build", "Makefile")} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("tree of %s: %v", abi, err)
		}
	}
	if tree.Release != "6.1.0-47-cloud-amd64" || tree.Version == "" {
		t.Errorf("tree release %q version %q", tree.Release, tree.Version)
	}
	kos, err := kernelfamily.BuildModule(context.Background(), tree, "testdata/hello", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if len(kos) != 1 || filepath.Base(kos[0]) != "hello.ko" {
		t.Fatalf("built %v, want hello.ko", kos)
	}
	testutil.RequireTool(t, "modprobe")
	vermagic, err := exec.Command("modinfo", "-F", "vermagic", kos[0]).Output()
	if err != nil || !strings.HasPrefix(string(vermagic), tree.Release+" ") {
		t.Errorf("vermagic %q (%v), want it to start with %s", vermagic, err, tree.Release)
	}
	out, err := exec.Command("modprobe", "--dump-modversions", kos[0]).Output()
	if err != nil {
		t.Fatalf("modprobe --dump-modversions: %v", err)
	}
	symvers := readSymvers(t, tree.Symvers())
	var n int
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		if want, ok := symvers[f[1]]; !ok || !strings.EqualFold(want, f[0]) {
			t.Errorf("hello.ko needs %s %s; Module.symvers has %q", f[1], f[0], want)
		}
		n++
	}
	if n < 3 {
		t.Errorf("hello.ko records %d symbol versions, want module_layout, _printk, jiffies_to_msecs at least", n)
	}
}

func readSymvers(t *testing.T, path string) map[string]string {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if fields := strings.Fields(sc.Text()); len(fields) >= 2 {
			m[fields[1]] = fields[0]
		}
	}
	return m
}

// TestFetcherConcurrent extracts one ABI from several goroutines at once into
// a fresh cache (seeded with the packages) and checks they share one tree.
func TestFetcherConcurrent(t *testing.T) {
	tree := kftest.Need(t, abi)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "debs"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range tree.Debs {
		if err := os.Link(d, filepath.Join(dir, "debs", filepath.Base(d))); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	roots := make([]string, 3)
	for i := range roots {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &kernelfamily.Fetcher{Dir: dir}
			got, err := f.Tree(context.Background(), abi)
			if err != nil {
				t.Error(err)
				return
			}
			roots[i] = got.Root
		}()
	}
	wg.Wait()
	if roots[0] == "" || roots[0] != roots[1] || roots[1] != roots[2] {
		t.Errorf("concurrent trees %v, want one", roots)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "kernels"))
	var trees []string
	for _, e := range entries {
		if e.IsDir() {
			trees = append(trees, e.Name())
		}
	}
	if len(trees) != 1 {
		t.Errorf("cache holds trees %v, want exactly one (no leftover temporaries)", trees)
	}
	mk, _ := os.ReadFile(filepath.Join(roots[0], "usr", "src", "linux-headers-"+tree.Release, "Makefile"))
	if !strings.Contains(string(mk), "include "+roots[0]+"/usr/src/") {
		t.Errorf("headers Makefile not rewritten to the tree: %s", mk)
	}
}
