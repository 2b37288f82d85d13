// Package repotest compares published repositories in tests: whether a
// disturbed run (crashed workers, lost hosts, restarted servers) published
// the same repository as an undisturbed run of the same rebuild.
package repotest

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// sha256Hex matches the content addresses in store keys
// (Packages/<sha256>/x.rpm, repodata/<sha256>-primary.xml.gz, ...).
var sha256Hex = regexp.MustCompile(`[0-9a-f]{64}`)

// Same fails unless the repository in dir got holds the same
// contents as the one in want, both published once from the same inputs
// (want undisturbed).
//
// Rebuilding is not bit-for-bit reproducible here: rpmbuild stamps each
// binary and source RPM with its build time and its payload's files with
// their mtimes, and the signature header covers those bytes, so RPM files
// (and with them their sha256, content-addressed keys, every metadata
// checksum, and the compressed payload's size) legitimately differ between
// two runs. "The same contents" therefore means:
//   - the same files: the same store keys once content addresses are
//     masked, each key the one generation names present; beyond those, a
//     run may hold only the metadata an interrupted publish attempt wrote
//     and no repomd.xml names (see strays), and the undisturbed run none;
//   - the same packages: the same NEVRAs, each with every header field and
//     every payload file (path, mode, size, digest, link target) the same,
//     except the build time and the file size (see sameRPM);
//   - the same dnf-visible metadata: repomd.xml lists the same data types,
//     and each package's primary, filelists and other entry is the same
//     except its checksum, location, file time, build time and file size
//     (see sameMeta);
//   - the same provenance records, except their time and the build logs'
//     and built SRPM's contents (see sameProvenance), each naming the RPM
//     its repository publishes.
func Same(t testing.TB, want, got string) {
	t.Helper()
	same(t, want, got, "", "")
}

// SameConfigs is Same for two runs under different configurations (each
// in its own namespace with its own store prefixes, say), whose provenance
// records name different configuration hashes: each record must name its
// own run's (wantHash, gotHash); everything else is compared as Same does.
func SameConfigs(t testing.TB, want, got, wantHash, gotHash string) {
	t.Helper()
	if wantHash == "" || gotHash == "" {
		t.Fatal("SameConfigs: a configuration hash is empty")
	}
	same(t, want, got, wantHash, gotHash)
}

// same is Same, and SameConfigs when the hashes are set.
func same(t testing.TB, want, got, wantHash, gotHash string) {
	t.Helper()
	wf, ws := Files(t, want)
	gf, gs := Files(t, got)
	if !slices.Equal(wf, gf) {
		t.Errorf("repository files differ from an undisturbed run's:\n got %q\nwant %q", gf, wf)
	}
	if len(ws) != 0 {
		t.Errorf("undisturbed repository holds files no generation names: %q", ws)
	}
	if len(gs) > 0 {
		t.Logf("files an interrupted publish left behind: %q", gs)
	}
	checkStrays(t, gs)
	wr, err := repodata.ReadRepo(want)
	if err != nil {
		t.Fatal(err)
	}
	gr, err := repodata.ReadRepo(got)
	if err != nil {
		t.Fatal(err)
	}
	if w, g := dataTypes(wr), dataTypes(gr); !slices.Equal(w, g) {
		t.Errorf("repomd.xml lists %v, undisturbed %v", g, w)
	}
	wp, gp := byNEVRA(wr), byNEVRA(gr)
	if w, g := keys(wp), keys(gp); !slices.Equal(w, g) {
		t.Fatalf("packages %v, undisturbed %v", g, w)
	}
	for nevra, w := range wp {
		g := gp[nevra]
		for _, d := range fieldDiffs(sameMeta(*w), sameMeta(*g)) {
			t.Errorf("%s: metadata %s", nevra, d)
		}
		for _, d := range fieldDiffs(sameRPM(t, want, w), sameRPM(t, got, g)) {
			t.Errorf("%s: rpm %s", nevra, d)
		}
	}
	wprov, gprov := provenanceRecords(t, want), provenanceRecords(t, got)
	if w, g := keys(wprov), keys(gprov); !slices.Equal(w, g) {
		t.Fatalf("provenance records %v, undisturbed %v", g, w)
	}
	for name, w := range wprov {
		for _, d := range fieldDiffs(sameProvenance(t, want, w, wantHash), sameProvenance(t, got, gprov[name], gotHash)) {
			t.Errorf("provenance of %s: %s", name, d)
		}
	}
}

// sameMeta clears the metadata fields that follow from the RPM's bytes
// (checksum, content-addressed location, size), its file's mtime, and its
// build time.
func sameMeta(p repodata.Package) repodata.Package {
	p.Checksum, p.Location, p.PackageSize, p.FileTime, p.BuildTime = "", "", 0, 0, 0
	return p
}

// sameRPM reads a published package's headers and clears what two builds
// of one SRPM may differ in: where it was read from, its build time and
// its file size (the compressed payload holds the files' mtimes).
func sameRPM(t testing.TB, root string, m *repodata.Package) rpm.Package {
	t.Helper()
	p, err := rpm.Open(filepath.Join(root, m.Location))
	if err != nil {
		t.Fatal(err)
	}
	p.Path, p.BuildTime, p.Size.Package = "", time.Time{}, 0
	return *p
}

// sameProvenance checks that a record names the RPM its repository
// publishes, then clears what differs between runs: the record's time, and
// the content addresses and sizes of the signed RPM, the SRPM the build
// wrote and its logs (all stamped with times); their names stay. With a
// configHash, the record must name it, and the hash is cleared too.
func sameProvenance(t testing.TB, root string, p pipeline.Provenance, configHash string) pipeline.Provenance {
	t.Helper()
	if configHash != "" {
		if p.ConfigHash != configHash {
			t.Errorf("provenance of %s names configuration %s, its run's is %s", p.RPM.Name, p.ConfigHash, configHash)
		}
		p.ConfigHash = ""
	}
	key := filepath.Join(root, "Packages", p.RPM.SHA256, p.RPM.Name)
	if fi, err := os.Stat(key); err != nil || fi.Size() != p.RPM.Size {
		t.Errorf("provenance names %s (%d bytes), not a published package: %v", p.RPM.Key, p.RPM.Size, err)
	}
	name := func(a pipeline.Artifact) pipeline.Artifact { return pipeline.Artifact{Name: a.Name} }
	p.Time, p.RPM, p.SourceRPM = time.Time{}, name(p.RPM), name(p.SourceRPM)
	p.Logs = slices.Clone(p.Logs)
	for i := range p.Logs {
		p.Logs[i] = name(p.Logs[i])
	}
	return p
}

// fieldDiffs describes the exported fields of two structs of one type that
// differ, with both values.
func fieldDiffs[T any](want, got T) []string {
	var out []string
	w, g := reflect.ValueOf(want), reflect.ValueOf(got)
	for i := range w.NumField() {
		f := w.Type().Field(i)
		if f.IsExported() && !reflect.DeepEqual(w.Field(i).Interface(), g.Field(i).Interface()) {
			out = append(out, fmt.Sprintf("%s = %s, undisturbed %s", f.Name, short(g.Field(i).Interface()), short(w.Field(i).Interface())))
		}
	}
	return out
}

func short(v any) string {
	s := fmt.Sprintf("%+v", v)
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}

// checkStrays fails unless files no generation names are metadata an
// interrupted publish attempt wrote before the worker was killed: at most
// one primary, filelists and other file each, under repodata/.
// repo/publish never deletes these (they are in no journal generation);
// dnf never reads them, as no repomd.xml names them.
func checkStrays(t testing.TB, strays []string) {
	t.Helper()
	seen := map[string]bool{}
	for _, s := range strays {
		kind, ok := strings.CutPrefix(s, "repodata/<sha256>-")
		kind, _, _ = strings.Cut(kind, ".")
		if !ok || !slices.Contains([]string{"primary", "filelists", "other", "index", "status"}, kind) || seen[kind] {
			t.Errorf("repository holds %s, which no generation names: %q", s, strays)
		}
		seen[kind] = true
	}
}

// Files lists the files under a repository's root, content addresses
// masked and sorted (the store's lock file left out), split into those the
// repository holds on purpose and the strays: files under Packages/ or
// repodata/ that its journal's one generation does not name.
func Files(t testing.TB, root string) (files, strays []string) {
	t.Helper()
	named := map[string]bool{"repodata/repomd.xml": true, "repodata/repomd.xml.asc": true}
	for _, g := range Journal(t, root).Generations {
		for _, k := range g.Keys {
			named[k] = true
			if _, err := os.Stat(filepath.Join(root, k)); err != nil {
				t.Errorf("generation %s names %s: %v", g.Repomd, k, err)
			}
		}
	}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, p)
		if err != nil || rel == ".kabiforge-lock" {
			return err
		}
		rel = filepath.ToSlash(rel)
		masked := sha256Hex.ReplaceAllString(rel, "<sha256>")
		if !named[rel] && (strings.HasPrefix(rel, "Packages/") || strings.HasPrefix(rel, "repodata/")) {
			strays = append(strays, masked)
		} else {
			files = append(files, masked)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(files)
	return files, strays
}

func dataTypes(r *repodata.Repo) []string {
	var out []string
	for _, d := range r.Repomd.Data {
		out = append(out, d.Type)
	}
	slices.Sort(out)
	return out
}

func byNEVRA(r *repodata.Repo) map[string]*repodata.Package {
	out := map[string]*repodata.Package{}
	for _, p := range r.Packages {
		out[fmt.Sprintf("%s-%s:%s-%s.%s", p.Name, p.Epoch, p.Version, p.Release, p.Arch)] = p
	}
	return out
}

// provenanceRecords reads a repository's provenance records by file name.
func provenanceRecords(t testing.TB, root string) map[string]pipeline.Provenance {
	t.Helper()
	out := map[string]pipeline.Provenance{}
	dir := filepath.Join(root, filepath.FromSlash(provenance.Prefix))
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		var p pipeline.Provenance
		if err := json.Unmarshal(data, &p); err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		out[strings.TrimSuffix(e.Name(), ".json")] = p
	}
	return out
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Journal reads a repository's publish journal.
func Journal(t testing.TB, root string) publish.Journal {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, publish.JournalKey))
	if err != nil {
		t.Fatal(err)
	}
	var j publish.Journal
	if err := json.Unmarshal(data, &j); err != nil {
		t.Fatal(err)
	}
	return j
}
