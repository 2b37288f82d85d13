package rpm_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// TestCheckFileAgreesWithRpmkeys checks every shared test package whole,
// cut short at 50%, cut by one byte and with a payload byte flipped, and
// compares each verdict with `rpmkeys --checksig --nosignature`.
func TestCheckFileAgreesWithRpmkeys(t *testing.T) {
	testutil.RequireTool(t, "rpmkeys")
	paths := testutil.SharedRPMs(t)
	work := t.TempDir()
	home := t.TempDir()
	for _, src := range paths {
		data, err := os.ReadFile(src)
		if err != nil {
			t.Fatal(err)
		}
		l, err := rpm.ReadLayout(bytesReader(data), int64(len(data)))
		if err != nil {
			t.Fatal(err)
		}
		flipped := append([]byte(nil), data...)
		flipped[l.PayloadStart+(int64(len(data))-l.PayloadStart)/2] ^= 0x40
		for _, c := range []struct {
			name string
			data []byte
			ok   bool
		}{
			{"whole", data, true},
			{"half", data[:len(data)/2], false},
			{"one byte short", data[:len(data)-1], false},
			{"payload byte flipped", flipped, false},
		} {
			p := filepath.Join(work, c.name+"-"+filepath.Base(src))
			if err := os.WriteFile(p, c.data, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("rpmkeys", "--checksig", "--nosignature", p)
			cmd.Env = []string{"HOME=" + home, "PATH=" + os.Getenv("PATH")}
			out, rerr := cmd.CombinedOutput()
			rpmkeysOK := rerr == nil && strings.Contains(string(out), "digests OK")
			err := rpm.CheckFile(p)
			if (err == nil) != c.ok || rpmkeysOK != c.ok {
				t.Errorf("%s %s: CheckFile = %v, rpmkeys ok = %v (%s); want ok = %v", filepath.Base(src), c.name, err, rpmkeysOK, strings.TrimSpace(string(out)), c.ok)
			}
			if err != nil && !strings.Contains(err.Error(), p) {
				t.Errorf("error %q does not name %s", err, p)
			}
		}
	}
	if err := rpm.CheckFiles(context.Background(), paths); err != nil {
		t.Fatal(err)
	}
}

// TestCheckFileRefusesSpecialFiles opens a named pipe without a writer: it is
// refused at once, by name, instead of blocking.
func TestCheckFileRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "pkg.rpm")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	err := rpm.CheckFile(fifo)
	if err == nil || !strings.Contains(err.Error(), fifo) || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("CheckFile(fifo) = %v", err)
	}
}
