package publish

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/store"
)

// For every k, a publish whose k-th store write fails leaves a repository
// that clients read consistently, old or new, and a retry completes it.
// After each failure, the client-like fetch (signature, every metadata file
// and package with its checksum) succeeds, and dnf (gpgcheck and
// repo_gpgcheck on) installs the version that metadata shows.
func TestFaultInjectionEveryWrite(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	old := testutil.RPMBuild(t, multiSpec("app", "1", "1", "main", "extra"))
	upd := testutil.RPMBuild(t, multiSpec("app", "2", "1", "main", "extra"))
	newer := testutil.RPMBuild(t, testutil.SimpleSpec("tool", "1", "1"))
	for _, rpm := range slices.Concat(old, upd, newer) {
		if err := signer(t).SignRPM(rpm); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	cfg := Config{BaseURL: "http://repo.invalid/test", ReleasePackage: true}
	mustPublish(t, newPublisher(t, dirStore(t, base), cfg), ChangeSet{Add: old})
	kr := signer(t).Key().Keyring()
	oldView, err := fetch(storeGetter(dirStore(t, base)), kr, true)
	if err != nil {
		t.Fatal(err)
	}
	change := ChangeSet{Add: append(slices.Clone(upd), newer...), Remove: nil}

	// Count the writes of the whole publish.
	probeDir := t.TempDir()
	copyDir(t, base, probeDir)
	probe := &faultStore{Store: dirStore(t, probeDir)}
	mustPublish(t, newPublisher(t, probe, cfg), change)
	newView, err := fetch(storeGetter(probe), kr, true)
	if err != nil {
		t.Fatal(err)
	}
	writes := probe.writes
	t.Logf("a publish makes %d writes: %v", len(writes), writes)
	if len(writes) < 6 {
		t.Fatalf("only %d writes", len(writes))
	}
	for k := 1; k <= len(writes); k++ {
		t.Run(fmt.Sprintf("k=%d-%s", k, filepath.Base(writes[k-1])), func(t *testing.T) {
			dir := t.TempDir()
			copyDir(t, base, dir)
			fs := &faultStore{Store: dirStore(t, dir), failAt: k}
			_, err := newPublisher(t, fs, cfg).Publish(context.Background(), change)
			if !errors.Is(err, errInjected) {
				t.Fatalf("publish with write %d (%s) failing: err %v, want the injected failure", k, fs.failed, err)
			}
			if fs.failed != writes[k-1] {
				t.Fatalf("write %d was %s, not %s as in the probe", k, fs.failed, writes[k-1])
			}
			view, err := fetch(storeGetter(fs.Store), kr, true)
			if err != nil {
				t.Fatalf("after write %d (%s) failed, a client fails: %v", k, fs.failed, err)
			}
			if view.firstOnly != nil {
				t.Errorf("after write %d (%s) failed, the first signature does not verify: %v", k, fs.failed, view.firstOnly)
			}
			if !slices.Equal(view.packages, oldView.packages) && !slices.Equal(view.packages, newView.packages) {
				t.Fatalf("after write %d failed, clients see %v: neither old %v nor new %v", k, view.packages, oldView.packages, newView.packages)
			}
			want := "app-main-2-1.noarch"
			if slices.Equal(view.packages, oldView.packages) {
				want = "app-main-1-1.noarch"
			}
			if installed := dnfInstall(t, dir, "app-main"); !slices.Contains(installed, want) {
				t.Fatalf("after write %d (%s) failed, dnf installed %v; the metadata shows %s", k, fs.failed, installed, want)
			}
			res, err := newPublisher(t, dirStore(t, dir), cfg).Publish(context.Background(), change)
			if err != nil {
				t.Fatalf("retry: %v", err)
			}
			view, err = fetch(storeGetter(fs.Store), kr, true)
			if err != nil {
				t.Fatalf("after the retry: %v", err)
			}
			if !slices.Equal(view.packages, newView.packages) {
				t.Fatalf("after the retry (%+v) clients see %v, want %v", res, view.packages, newView.packages)
			}
		})
	}
}

// A publish that also deletes expired files (cleanup) tolerates a failure
// of any of its writes, deletes included: clients keep reading a complete
// repository that dnf installs from, and a retry finishes the cleanup (the
// journal's garbage list is emptied and the expired files are gone).
func TestFaultInjectionDuringCleanup(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	rpms := testutil.RPMBuild(t, multiSpec("gc", "1", "1", "a", "b", "c"))
	for _, rpm := range rpms {
		if err := signer(t).SignRPM(rpm); err != nil {
			t.Fatal(err)
		}
	}
	base := t.TempDir()
	clk := newClock()
	cfg := Config{Now: clk.Now, Window: time.Hour}
	p := newPublisher(t, dirStore(t, base), cfg)
	mustPublish(t, p, ChangeSet{Add: rpms[:2]})
	clk.Advance(time.Minute)
	mustPublish(t, p, ChangeSet{Remove: []string{"gc-a-1-1.noarch"}})
	later := clk.Now().Add(2 * time.Hour)
	kr := signer(t).Key().Keyring()
	change := ChangeSet{Add: rpms[2:]}

	run := func(dir string, failAt int) (*faultStore, error) {
		fs := &faultStore{Store: dirStore(t, dir), failAt: failAt}
		c := cfg
		c.Now = func() time.Time { return later }
		_, err := newPublisher(t, fs, c).Publish(context.Background(), change)
		return fs, err
	}
	probeDir := t.TempDir()
	copyDir(t, base, probeDir)
	probe, err := run(probeDir, 0)
	if err != nil {
		t.Fatal(err)
	}
	deletes := 0
	for _, w := range probe.writes {
		if _, err := os.Stat(filepath.Join(probeDir, w)); err != nil {
			deletes++
		}
	}
	t.Logf("%d writes, %d of them deletes: %v", len(probe.writes), deletes, probe.writes)
	if deletes < 4 {
		t.Fatalf("the publish deleted %d files, want gc-a and the first metadata", deletes)
	}
	want, err := fetch(storeGetter(probe.Store), kr, true)
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := listAll(t, probe.Store)
	for k := 1; k <= len(probe.writes); k++ {
		dir := t.TempDir()
		copyDir(t, base, dir)
		fs, err := run(dir, k)
		if !errors.Is(err, errInjected) {
			t.Fatalf("k=%d: err %v", k, err)
		}
		if _, err := fetch(storeGetter(fs.Store), kr, true); err != nil {
			t.Fatalf("after write %d (%s) failed, a client fails: %v", k, fs.failed, err)
		}
		if installed := dnfInstall(t, dir, "gc-b"); !slices.Contains(installed, "gc-b-1-1.noarch") {
			t.Fatalf("after write %d (%s) failed, dnf installed %v", k, fs.failed, installed)
		}
		if _, err := run(dir, 0); err != nil {
			t.Fatalf("k=%d: retry: %v", k, err)
		}
		got, err := fetch(storeGetter(fs.Store), kr, true)
		if err != nil || !slices.Equal(got.packages, want.packages) {
			t.Fatalf("k=%d: after the retry: %v, packages %v, want %v", k, err, got, want.packages)
		}
		if keys := listAll(t, fs.Store); !slices.Equal(keys, wantKeys) {
			t.Errorf("k=%d (%s): after the retry the store holds\n%v\nwant\n%v", k, fs.failed, keys, wantKeys)
		}
		j, _, err := readJournal(context.Background(), fs.Store)
		if err != nil || len(j.Garbage) != 0 {
			t.Errorf("k=%d: journal garbage %v (%v)", k, j.Garbage, err)
		}
	}
}

// listAll lists the package and metadata keys of a store.
func listAll(t *testing.T, s store.Store) []string {
	t.Helper()
	var keys []string
	for info, err := range s.List(context.Background(), "") {
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(info.Key, "Packages/") || (strings.HasPrefix(info.Key, "repodata/") && !strings.HasPrefix(info.Key, RepomdKey)) {
			keys = append(keys, info.Key)
		}
	}
	return keys
}

// The first publish into an empty store, failing at any write, leaves
// either no repository (repomd.xml absent; dnf fails to load it) or a
// complete one (dnf installs from it), and a retry completes it.
func TestFaultInjectionFirstPublish(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	rpms := testutil.RPMBuild(t, multiSpec("first", "1", "1", "a", "b"))
	for _, rpm := range rpms {
		if err := signer(t).SignRPM(rpm); err != nil {
			t.Fatal(err)
		}
	}
	cfg := Config{BaseURL: "http://repo.invalid/test"}
	kr := signer(t).Key().Keyring()
	probe := &faultStore{Store: dirStore(t, t.TempDir())}
	mustPublish(t, newPublisher(t, probe, cfg), ChangeSet{Add: rpms})
	want, err := fetch(storeGetter(probe), kr, true)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d writes: %v", len(probe.writes), probe.writes)
	for k := 1; k <= len(probe.writes); k++ {
		dir := t.TempDir()
		fs := &faultStore{Store: dirStore(t, dir), failAt: k}
		if _, err := newPublisher(t, fs, cfg).Publish(context.Background(), ChangeSet{Add: rpms}); !errors.Is(err, errInjected) {
			t.Fatalf("k=%d: err %v", k, err)
		}
		view, err := fetch(storeGetter(fs.Store), kr, true)
		switch {
		case err == nil && !slices.Equal(view.packages, want.packages):
			t.Fatalf("after write %d (%s) failed, clients see %v", k, fs.failed, view.packages)
		case err != nil && !(errors.Is(err, store.ErrNotExist) && strings.Contains(err.Error(), RepomdKey)):
			t.Fatalf("after write %d (%s) failed, a client fails: %v", k, fs.failed, err)
		case err == nil:
			if installed := dnfInstall(t, dir, "first-a"); !slices.Contains(installed, "first-a-1-1.noarch") {
				t.Fatalf("after write %d (%s) failed, dnf installed %v", k, fs.failed, installed)
			}
		default:
			root := testutil.NewDNFRoot(t)
			root.AddRepo(testutil.Repo{Name: "test", BaseURL: "file://" + dir, GPGKey: "file://" + filepath.Join(dir, KeyFileKey("test"))})
			if out, err := root.Install("first-a"); err == nil {
				t.Fatalf("after write %d (%s) failed, no repomd.xml, yet dnf installed:\n%s", k, fs.failed, out)
			}
		}
		if _, err := newPublisher(t, fs.Store, cfg).Publish(context.Background(), ChangeSet{Add: rpms}); err != nil {
			t.Fatalf("k=%d: retry: %v", k, err)
		}
		if view, err := fetch(storeGetter(fs.Store), kr, true); err != nil || !slices.Equal(view.packages, want.packages) {
			t.Fatalf("k=%d: after the retry: %v %v", k, view, err)
		}
	}
}
