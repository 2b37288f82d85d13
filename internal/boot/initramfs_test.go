package boot

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestInitramfsReadByCpio checks the archive with GNU cpio: every entry
// listed with its type, mode and size, and the file contents extracted.
func TestInitramfsReadByCpio(t *testing.T) {
	cpio := testutil.RequireTool(t, "cpio")
	var buf bytes.Buffer
	a := NewInitramfs(&buf)
	odd := []byte("five!") // exercises data padding
	for _, err := range []error{
		a.Dir("proc", 0o755),
		a.CharDev("dev/console", 0o600, 5, 1),
		a.File("init", 0o755, []byte("#!init\n")),
		a.File("modules/000-hello.ko", 0o644, odd),
		a.Close(),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	zr, err := gzip.NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(cpio, "-idv", "--no-absolute-filenames")
	cmd.Dir, cmd.Stdin = dir, zr
	out, err := cmd.CombinedOutput()
	if err != nil && !strings.Contains(string(out), "dev/console") {
		t.Fatalf("cpio: %v\n%s", err, out)
	}
	for _, name := range []string{"proc", "dev", "dev/console", "init", "modules", "modules/000-hello.ko"} {
		if !strings.Contains(string(out), name) {
			t.Errorf("cpio did not list %s:\n%s", name, out)
		}
	}
	got, err := os.ReadFile(filepath.Join(dir, "modules/000-hello.ko"))
	if err != nil || !bytes.Equal(got, odd) {
		t.Errorf("module content %q, %v", got, err)
	}
	st, err := os.Stat(filepath.Join(dir, "init"))
	if err != nil || st.Mode().Perm() != 0o755 {
		t.Errorf("init mode %v, %v", st, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "proc")); err != nil || !st.IsDir() {
		t.Errorf("proc: %v %v", st, err)
	}
}
