package kabi_test

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// realSymvers returns the Module.symvers of two real ABIs of the family.
func realSymvers(tb testing.TB) (old, new string) {
	return kftest.Need(tb, "6.1.0-47").Symvers(), kftest.Need(tb, "6.1.0-57").Symvers()
}

// TestDiffRealSymvers compares Diff of two real ABIs with the counts join(1)
// computes from the same files.
func TestDiffRealSymvers(t *testing.T) {
	oldPath, newPath := realSymvers(t)
	oldABI, err := kabi.ReadSymversFile(oldPath)
	if err != nil {
		t.Fatal(err)
	}
	newABI, err := kabi.ReadSymversFile(newPath)
	if err != nil {
		t.Fatal(err)
	}
	d := kabi.Diff(oldABI, newABI)
	const keyed = `export LC_ALL=C; awk '{print $2, $1}' "$1" | sort -k1,1 > "$3/a"; awk '{print $2, $1}' "$2" | sort -k1,1 > "$3/b"; `
	for _, tc := range []struct {
		what string
		got  int
		cmd  string
	}{
		{"added", len(d.Added), `join -v2 "$3/a" "$3/b" | wc -l`},
		{"removed", len(d.Removed), `join -v1 "$3/a" "$3/b" | wc -l`},
		{"changed", len(d.CRCChanged), `join "$3/a" "$3/b" | awk '$2 != $3' | wc -l`},
	} {
		out, err := exec.Command("sh", "-c", keyed+tc.cmd, "sh", oldPath, newPath, t.TempDir()).Output()
		if err != nil {
			t.Fatalf("%s: %v", tc.what, err)
		}
		want, _ := strconv.Atoi(strings.TrimSpace(string(out)))
		if tc.got != want || want == 0 {
			t.Errorf("Diff of 6.1.0-47 and 6.1.0-57: %d %s, join counts %d", tc.got, tc.what, want)
		}
	}
}

// BenchmarkDiffRealSymvers: read and diff two real Module.symvers files
// (about 24,600 rows each), as `kabi diff` does.
func BenchmarkDiffRealSymvers(b *testing.B) {
	oldPath, newPath := realSymvers(b)
	for b.Loop() {
		oldABI, err := kabi.ReadSymversFile(oldPath)
		if err != nil {
			b.Fatal(err)
		}
		newABI, err := kabi.ReadSymversFile(newPath)
		if err != nil {
			b.Fatal(err)
		}
		kabi.Diff(oldABI, newABI)
	}
}
