package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/sdk/testsuite"

	"github.com/kabiforge/kabiforge/internal/boot/bootfixture"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/kernelfamily"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kabi"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/store"
)

// joinExportChanges prints, with join and awk, the symbols of two
// Module.symvers files whose CRC is equal but whose export type or namespace
// differs, "name: OLD -> NEW" with namespaces in parentheses, then the counts
// of CRC changes, removals and additions: an independent reading of the
// analysis' summary.
const joinExportChanges = `export LC_ALL=C; t="$(printf '\t')"
join -t "$t" -j 2 <(sort -t "$t" -k2,2 "$1") <(sort -t "$t" -k2,2 "$2") |
	awk -F'\t' '$2 == $6 && ($4 != $8 || $5 != $9) { o = $4; if ($5 != "") o = o "(" $5 ")"; n = $8; if ($9 != "") n = n "(" $9 ")"; print $1 ": " o " -> " n }
		$2 != $6 { c++ } END { print "changed=" c+0 }'
echo "removed=$(join -t "$t" -j 2 -v1 <(sort -t "$t" -k2,2 "$1") <(sort -t "$t" -k2,2 "$2") | wc -l)"
echo "added=$(join -t "$t" -j 2 -v2 <(sort -t "$t" -k2,2 "$1") <(sort -t "$t" -k2,2 "$2") | wc -l)"`

// TestAnalyzeRealKernelsReportsExportChanges runs the Analyze activity on
// the real family's kernel packages. 6.1.0-47 published, 6.1.0-57 new: the
// summary's CRC changes, removals, additions and (no) export changes are
// what join finds between the two Module.symvers. Then -57 published with a
// kmod whose module (kabi_good) loads on it, and a variant of -57 (its
// symvers.gz with kstrdup made GPL-only and kmemdup moved into a namespace)
// new, with a stablelist of kstrdup and _printk: the analysis reports exactly
// those two export changes, in the summary and the report, kstrdup as a
// stablelisted change, and the kmod broken for both, with its greylist (the
// symbols it needs off the list, counted by modprobe and grep) in the report.
func TestAnalyzeRealKernelsReportsExportChanges(t *testing.T) {
	testutil.RequireTool(t, "join")
	old, cur := kftest.Need(t, "6.1.0-47"), kftest.Need(t, "6.1.0-57")
	oldRPMs, _ := kftest.KernelRPMs(t, demo.RealKernel{Tree: old, Release: "47"})
	curRPMs, _ := kftest.KernelRPMs(t, demo.RealKernel{Tree: cur, Release: "57"})
	good := kftest.Modules(t, cur, filepath.Join("..", "repo", "kabi", "testdata", "refusedkmod"))["kabi_good.ko"]
	variant := filepath.Join(t.TempDir(), "Module.symvers")
	if out, err := exec.Command("sh", "-c", `awk -F'\t' 'BEGIN { OFS = "\t" }
		$2 == "kstrdup" { $4 = "EXPORT_SYMBOL_GPL" }
		$2 == "kmemdup" { $5 = "KABIFORGE_TEST" }
		{ print }' "$1" > "$2"`, "sh", cur.Symvers(), variant).CombinedOutput(); err != nil {
		t.Fatalf("variant: %v %s", err, out)
	}

	for _, tc := range []struct {
		name              string
		prev, next        []string // kernel packages
		prevNVR, nextNVR  string
		prevSyms, newSyms string // their Module.symvers, for join
		kmod              string // a .ko published for prev, or ""
		wantExport        []string
		wantBreaks        []string
	}{
		{"-47 to -57", oldRPMs, curRPMs, "6.1.0-47.el8", "6.1.0-57.el8", old.Symvers(), cur.Symvers(), "", nil, nil},
		{"-57 to its variant", curRPMs, []string{variantCoreRPM(t, cur, variant), stablelistRPM(t, "kstrdup", "_printk")}, "6.1.0-57.el8", "6.1.0-57.1.el8",
			cur.Symvers(), variant, good,
			[]string{"kmemdup: EXPORT_SYMBOL -> EXPORT_SYMBOL(KABIFORGE_TEST)", "kstrdup: EXPORT_SYMBOL -> EXPORT_SYMBOL_GPL"},
			[]string{"kabi_good: kstrdup (gpl-only) (stablelisted)", "kabi_good: kmemdup (namespace)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			an, report, art := analyzeReal(t, tc.prev, tc.next, tc.prevNVR, tc.nextNVR, tc.kmod)
			out, err := exec.Command("bash", "-c", joinExportChanges, "sh", tc.prevSyms, tc.newSyms).Output()
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			wantExport := lines[:len(lines)-3]
			got := fmt.Sprintf("changed=%d\nremoved=%d\nadded=%d", an.Changed, an.Removed, an.Added)
			if want := strings.Join(lines[len(lines)-3:], "\n"); got != want || an.Previous != tc.prevNVR {
				t.Errorf("summary against %s:\n%s\njoin says\n%s", an.Previous, got, want)
			}
			t.Logf("%s; export changed %q; kmods %+v", strings.ReplaceAll(got, "\n", " "), an.ExportChanged, an.Kmods)
			// The analysis lists stablelisted changes first; join by name.
			if got := slices.Sorted(slices.Values(an.ExportChanged)); !slices.Equal(got, wantExport) || !slices.Equal(got, tc.wantExport) {
				t.Errorf("export changes %q, join says %q, want %q", an.ExportChanged, wantExport, tc.wantExport)
			}
			for _, s := range an.ExportChanged {
				if !strings.Contains(report, "  export changed: "+s+"\n") {
					t.Errorf("report lacks %q:\n%s", s, report)
				}
			}
			if want := fmt.Sprintf("%d export type or namespace changed", len(wantExport)); !strings.Contains(report, want) {
				t.Errorf("report lacks %q:\n%s", want, report)
			}
			if tc.kmod == "" {
				return
			}
			if v := an.Kmods[0]; v.Compatible || !slices.Equal(v.Breaks, tc.wantBreaks) {
				t.Errorf("kmod %+v, want broken by %q", v, tc.wantBreaks)
			}
			grey, err := exec.Command("sh", "-c", `modprobe --dump-modversions "$1" | cut -f2 | grep -vx -e kstrdup -e _printk -e module_layout | sort`,
				"sh", tc.kmod).Output()
			if err != nil {
				t.Fatal(err)
			}
			greylist := strings.Fields(string(grey))
			if v := an.Kmods[0]; v.Greylist != len(greylist) || len(greylist) == 0 || !slices.Equal(an.StablelistChanged, []string{"kstrdup"}) {
				t.Errorf("greylist %d, stablelisted changes %q; want %d (%q) and kstrdup", v.Greylist, an.StablelistChanged, len(greylist), greylist)
			}
			if want := fmt.Sprintf("kmod good: BROKEN, fail-kmod (built for %s; %d greylisted symbols)", tc.prevNVR, len(greylist)); !strings.Contains(report, want) {
				t.Errorf("report lacks %q:\n%s", want, report)
			}
			var rep struct{ Verdicts []kabi.Verdict }
			if err := json.Unmarshal([]byte(readArtifact(t, art, an.ReportJSON)), &rep); err != nil || len(rep.Verdicts) != 1 ||
				!slices.Equal(rep.Verdicts[0].Greylist, greylist) {
				t.Errorf("JSON report verdicts %+v (%v), want greylist %q", rep.Verdicts, err, greylist)
			}
		})
	}
}

// analyzeReal publishes prev (and a kmod with module ko built for it) in a
// repository's provenance and runs Analyze on next; it returns the summary
// and the text report, and the artifact store holding the reports.
func analyzeReal(t *testing.T, prev, next []string, prevNVR, nextNVR, ko string) (pipeline.Analysis, string, store.Store) {
	t.Helper()
	ctx := context.Background()
	art, _ := dirStore(t)
	repo, _ := dirStore(t)
	record := func(kind pipeline.Kind, kmod, src string, rpms []pipeline.Artifact) {
		for _, r := range rpms {
			p := pipeline.Provenance{RPM: r, SourceRPM: pipeline.Artifact{Name: src, SHA256: src}, KernelNVR: prevNVR,
				Kind: kind, Kmod: kmod, Time: time.Now()}
			if err := provenance.Write(ctx, repo, p); err != nil {
				t.Fatal(err)
			}
		}
	}
	record(pipeline.KindKernel, "", "kernel-"+prevNVR, storeRPMs(t, art, binaryRPMs(prev)...))
	var kmods []pipeline.KmodSpec
	if ko != "" {
		record(pipeline.KindKmod, "good", "kmod-good", storeRPMs(t, art, kmodRPM(t, ko)))
		kmods = []pipeline.KmodSpec{{Name: "good", Package: "kmod-good", Source: "upstream"}}
	}
	a := &Activities{Artifacts: art, WorkDir: t.TempDir(), Repositories: map[string]Repository{"r": {Store: repo}}}
	var s testsuite.WorkflowTestSuite
	env := s.NewTestActivityEnvironment()
	env.RegisterActivity(a)
	env.SetTestTimeout(5 * time.Minute)
	v, err := env.ExecuteActivity(a.Analyze, pipeline.AnalyzeInput{KernelNVR: nextNVR, Arch: "x86_64", Repository: "r",
		Kernel: storeRPMs(t, art, binaryRPMs(next)...), Kmods: kmods})
	if err != nil {
		t.Fatal(err)
	}
	var an pipeline.Analysis
	if err := v.Get(&an); err != nil {
		t.Fatal(err)
	}
	return an, readArtifact(t, art, an.Report), art
}

// binaryRPMs drops source packages.
func binaryRPMs(paths []string) []string {
	return slices.DeleteFunc(slices.Clone(paths), func(p string) bool { return strings.HasSuffix(p, ".src.rpm") })
}

// variantCoreRPM packages a kernel-core 6.1.0-57.1.el8 whose symvers.gz is
// the given Module.symvers: a kernel variant as the analysis reads it.
func variantCoreRPM(t *testing.T, tree *kernelfamily.Tree, symvers string) string {
	t.Helper()
	kver := "6.1.0-57.1.el8.x86_64"
	rpms := testutil.RPMBuild(t, fmt.Sprintf(`Name: kernel-core
Version: 6.1.0
Release: 57.1%%{?dist}
Summary: a variant of the real %s kernel's ABI
License: GPL-2.0
%%description
test
%%install
mkdir -p %%{buildroot}/lib/modules/%s
gzip -c %s > %%{buildroot}/lib/modules/%s/symvers.gz
%%files
/lib/modules/%s
`, tree.ABI, kver, symvers, kver, kver), "--define", "__os_install_post %{nil}", "--target", "x86_64")
	return rpms[0]
}

// stablelistRPM packages a kernel-abi-stablelists listing syms.
func stablelistRPM(t *testing.T, syms ...string) string {
	t.Helper()
	rpms := testutil.RPMBuild(t, fmt.Sprintf(`Name: kernel-abi-stablelists
Version: 6.1.0
Release: 57.1
Summary: the test's kABI stablelist
License: GPL-2.0
BuildArch: noarch
%%description
test
%%install
mkdir -p %%{buildroot}/lib/modules/kabi-rhel91
cat > %%{buildroot}/lib/modules/kabi-rhel91/kabi_stablelist_x86_64 <<'EOF'
[rhel9_x86_64_stablelist]
	%s
EOF
%%files
/lib/modules/kabi-rhel91
`, strings.Join(syms, "\n\t")), "--define", "__os_install_post %{nil}")
	return rpms[0]
}

// kmodRPM packages one kernel module as kmod-good, with the Requires
// modprobe reads from it.
func kmodRPM(t *testing.T, ko string) string {
	t.Helper()
	var req []string
	for _, r := range bootfixture.Requires(t, ko) {
		req = append(req, "Requires: "+r)
	}
	dir := "/lib/modules/6.1.0-57.el8.x86_64/extra/good"
	rpms := testutil.RPMBuild(t, fmt.Sprintf(`Name: kmod-good
Version: 1.0
Release: 1
Summary: the control module
License: Proprietary
%s
%%description
test
%%install
mkdir -p %%{buildroot}%s
cp %s %%{buildroot}%s/
%%files
%s
`, strings.Join(req, "\n"), dir, ko, dir, dir), "--define", "__os_install_post %{nil}", "--target", "x86_64")
	return rpms[0]
}
