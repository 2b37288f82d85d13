package infile_test

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// TestRefusesWhatIsNotARegularFile opens a named pipe with no writer, a
// socket, a directory and a character device: each is refused at once with
// an error naming the path and its kind, where os.Open would block on the
// pipe or read the device endlessly.
func TestRefusesWhatIsNotARegularFile(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for path, kind := range map[string]string{
		fifo:        "a named pipe",
		dir:         "a directory",
		"/dev/zero": "a character device",
	} {
		done := make(chan error, 1)
		go func() { _, err := infile.ReadFile(path, 0); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), kind) {
				t.Errorf("ReadFile(%s) = %v, want an error naming it %s", path, err, kind)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("ReadFile(%s) blocks", path)
		}
	}
	// A socket cannot be opened at all; the error still names it.
	if _, err := infile.Open(sock); err == nil || !strings.Contains(err.Error(), sock) {
		t.Errorf("Open(socket) = %v", err)
	}
}

// TestReadFile reads a regular file whole and refuses one over the limit.
func TestReadFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "f")
	want := bytes.Repeat([]byte("kabiforge\n"), 1000)
	if err := os.WriteFile(p, want, 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := infile.ReadFile(p, 0)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("ReadFile = %d bytes, %v; want %d bytes", len(got), err, len(want))
	}
	if _, err := infile.ReadFile(p, int64(len(want))-1); err == nil || !strings.Contains(err.Error(), p) {
		t.Errorf("ReadFile over the limit = %v, want an error naming %s", err, p)
	}
	f, err := infile.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	flags, err := fcntlFlags(f)
	if err != nil {
		t.Fatal(err)
	}
	if flags&syscall.O_NONBLOCK != 0 {
		t.Error("Open leaves O_NONBLOCK set")
	}
}

func fcntlFlags(f *os.File) (int, error) {
	r, _, errno := syscall.Syscall(syscall.SYS_FCNTL, f.Fd(), syscall.F_GETFL, 0)
	if errno != 0 {
		return 0, errno
	}
	return int(r), nil
}
