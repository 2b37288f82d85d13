package rpm_test

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// realRPMs lists the real packages of ../shared/data/rpm.
func realRPMs(t testing.TB) []string {
	t.Helper()
	var paths []string
	for _, dir := range []string{"go-rpmutils", "centos-signed", "createrepo_c/packages"} {
		m, err := filepath.Glob(filepath.Join(testutil.SharedData(t, "rpm"), dir, "*.rpm"))
		if err != nil {
			t.Fatal(err)
		}
		paths = append(paths, m...)
	}
	if len(paths) < 30 {
		t.Fatalf("expected the real test RPMs, found %d", len(paths))
	}
	return paths
}

// rpmQuery asks rpm itself about a package file.
func rpmQuery(t *testing.T, path, format string) string {
	t.Helper()
	out, err := exec.Command("rpm", "-qp", "--nosignature", "--nodigest", "--qf", format, path).Output()
	if err != nil {
		t.Fatalf("rpm -qp %s: %v", path, err)
	}
	return string(out)
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l != "" {
			out = append(out, l)
		}
	}
	return out
}

func depStrings(deps []rpm.Dep) []string {
	out := make([]string, 0, len(deps))
	for _, d := range deps {
		out = append(out, d.String())
	}
	return out
}

// Every real package reads the same as rpm -qp reports it.
func TestOpenAgreesWithRPM(t *testing.T) {
	testutil.RequireTool(t, "rpm")
	for _, path := range realRPMs(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			p, err := rpm.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			want := rpmQuery(t, path, "%{NAME}|%|EPOCH?{%{EPOCH}}:{}||%{VERSION}|%{RELEASE}|%|SOURCERPM?{%{ARCH}}:{src}||%|SOURCERPM?{%{SOURCERPM}}:{}||%{LICENSE}|%{BUILDTIME}|%{SIZE}")
			n := p.NEVRA
			got := strings.Join([]string{n.Name, n.Epoch, n.Version, n.Release, n.Arch, p.SourceRPM, p.License,
				itoa(p.BuildTime.Unix()), itoa(p.Size.Installed)}, "|")
			if got != want {
				t.Errorf("header fields:\n got %s\nwant %s", got, want)
			}
			for _, c := range []struct {
				tag  string
				deps []rpm.Dep
			}{
				{"PROVIDENEVRS", p.Provides}, {"REQUIRENEVRS", p.Requires}, {"CONFLICTNEVRS", p.Conflicts},
				{"OBSOLETENEVRS", p.Obsoletes}, {"RECOMMENDNEVRS", p.Recommends}, {"SUGGESTNEVRS", p.Suggests},
				{"SUPPLEMENTNEVRS", p.Supplements}, {"ENHANCENEVRS", p.Enhances},
			} {
				want := lines(rpmQuery(t, path, "[%{"+c.tag+"}\n]"))
				if got := depStrings(c.deps); !slices.Equal(got, want) {
					t.Errorf("%s:\n got %q\nwant %q", c.tag, got, want)
				}
			}
			wantFiles := lines(rpmQuery(t, path, "[%{FILENAMES}\n]"))
			if len(wantFiles) > 0 && wantFiles[0] == "(none)" {
				wantFiles = nil
			}
			var gotFiles []string
			for _, f := range p.Files {
				gotFiles = append(gotFiles, f.Path)
			}
			if !slices.Equal(gotFiles, wantFiles) {
				t.Errorf("files:\n got %q\nwant %q", gotFiles, wantFiles)
			}
			if p.IsSource() != (p.SourceRPM == "") || p.HeaderStart <= 96 || p.HeaderEnd <= p.HeaderStart {
				t.Errorf("source=%v header range %d-%d", p.IsSource(), p.HeaderStart, p.HeaderEnd)
			}
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// The epoch is kept as the package gives it: absent, 0 or 1.
func TestEpochKeptAsGiven(t *testing.T) {
	dir := testutil.SharedData(t, "rpm", "go-rpmutils")
	for file, want := range map[string]string{
		"simple-1.0.1-1.i386.rpm":     "",
		"zero-epoch-0.1-1.x86_64.rpm": "0",
		"one-epoch-0.1-1.x86_64.rpm":  "1",
	} {
		p, err := rpm.Open(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		if p.NEVRA.Epoch != want {
			t.Errorf("%s: epoch %q, want %q", file, p.NEVRA.Epoch, want)
		}
	}
}

// Every payload compression reads back to the same file contents.
func TestWalkPayloadAllCompressions(t *testing.T) {
	m, _ := filepath.Glob(filepath.Join(testutil.SharedData(t, "rpm", "go-rpmutils"), "payload-test-*.rpm"))
	if len(m) != 6 {
		t.Fatalf("want 6 payload-test packages, got %d", len(m))
	}
	var first map[string]string
	for _, path := range m {
		p, err := rpm.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		err = p.WalkPayload(func(f rpm.File, r io.Reader) error {
			var b bytes.Buffer
			_, err := b.ReadFrom(r)
			got[f.Path] = b.String()
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		if len(got) == 0 {
			t.Fatalf("%s: no files in payload", path)
		}
		if first == nil {
			first = got
		} else if !mapsEqual(first, got) {
			t.Errorf("%s: payload differs", path)
		}
	}
}

func mapsEqual(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// Bad input yields an error that names the file and the problem.
func TestOpenBadInput(t *testing.T) {
	good, err := os.ReadFile(filepath.Join(testutil.SharedData(t, "rpm", "go-rpmutils"), "simple-1.0.1-1.i386.rpm"))
	if err != nil {
		t.Fatal(err)
	}
	corrupt := slices.Clone(good)
	// Point the first index entry of the main header far outside its data.
	p, err := rpm.Read(bytes.NewReader(good), int64(len(good)))
	if err != nil {
		t.Fatal(err)
	}
	copy(corrupt[p.HeaderStart+16+8:], []byte{0x7f, 0xff, 0xff, 0x00})
	dir := t.TempDir()
	cases := map[string]struct {
		data []byte
		want string
	}{
		"empty.rpm":     {nil, "unexpected EOF"},
		"text.rpm":      {bytes.Repeat([]byte("not an rpm at all "), 10), "not an RPM"},
		"truncated.rpm": {good[:p.HeaderStart+100], "truncated"},
		"corrupt.rpm":   {corrupt, "beyond data"},
	}
	for name, c := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, c.data, 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := rpm.Open(path)
		if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one naming the file and %q", name, err, c.want)
		}
	}
}
