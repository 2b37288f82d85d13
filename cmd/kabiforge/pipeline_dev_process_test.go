package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
)

// devRun is a `kabiforge dev` process started from the built binary.
type devRun struct {
	cmd    *exec.Cmd
	out    *lockedBuffer
	exited chan struct{}
	err    error
}

// devConfig writes a kabiforge.yaml under dir with the data directory
// dir/data and the given frontend and UI ports (a free repo port).
func devConfig(t *testing.T, dir string, frontend, ui int) string {
	t.Helper()
	path := filepath.Join(dir, "kabiforge.yaml")
	yaml := fmt.Sprintf("data_dir: %s\ntemporal: {address: \"127.0.0.1:%d\"}\nhttp: {repo: \"127.0.0.1:%d\", ui: \"127.0.0.1:%d\"}\n",
		filepath.Join(dir, "data"), frontend, devtest.FreePort(t), ui)
	if err := os.WriteFile(path, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// startDev runs the kabiforge binary with args, its dev server found on
// PATH, in dir; the process is killed when the test ends.
func startDev(t *testing.T, dir string, args ...string) *devRun {
	t.Helper()
	dev := devtest.Binary(t)
	r := &devRun{cmd: exec.Command(kabiforgeBin, args...), out: &lockedBuffer{}, exited: make(chan struct{})}
	r.cmd.Dir = dir
	r.cmd.Env = append(os.Environ(), "PATH="+filepath.Dir(dev)+string(os.PathListSeparator)+os.Getenv("PATH"))
	r.cmd.Stdout, r.cmd.Stderr = r.out, r.out
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() { _ = r.cmd.Process.Kill(); <-r.exited })
	return r
}

// wait waits up to d for the process to end and returns its exit code.
func (r *devRun) wait(t *testing.T, d time.Duration) int {
	t.Helper()
	select {
	case <-r.exited:
	case <-time.After(d):
		t.Fatalf("kabiforge still running after %v:\n%s", d, r.out.String())
	}
	var ee *exec.ExitError
	if r.err != nil && !errors.As(r.err, &ee) {
		t.Fatalf("wait: %v", r.err)
	}
	return r.cmd.ProcessState.ExitCode()
}

// waitUI waits until the banner names the UI and the UI answers 200.
func (r *devRun) waitUI(t *testing.T, d time.Duration) string {
	t.Helper()
	for deadline := time.Now().Add(d); ; time.Sleep(50 * time.Millisecond) {
		if ui := bannerField(r.out.String(), "Temporal UI:"); ui != "" {
			if resp, err := http.Get(ui); err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					return ui
				}
			}
		}
		select {
		case <-r.exited:
			t.Fatalf("kabiforge dev ended (%v):\n%s", r.err, r.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("UI not answering after %v:\n%s", d, r.out.String())
		}
	}
}

func bannerField(out, label string) string {
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), label); ok {
			return strings.TrimSpace(rest)
		}
	}
	return ""
}

// devServerChildren returns the pids of the kabiforge-devserver processes
// whose parent is pid.
func devServerChildren(t *testing.T, pid int) []int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var kids []int
	for _, d := range dirs {
		child, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		st, err := os.ReadFile(filepath.Join("/proc", d.Name(), "status"))
		if err != nil {
			continue
		}
		if procField(st, "PPid") == strconv.Itoa(pid) && strings.HasPrefix(procField(st, "Name"), "kabiforge-devse") {
			kids = append(kids, child)
		}
	}
	return kids
}

// procField reads one "Name:\tvalue" line of /proc/<pid>/status.
func procField(status []byte, name string) string {
	for _, line := range bytes.Split(status, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte(name+":")); ok {
			return string(bytes.TrimSpace(v))
		}
	}
	return ""
}

// alive reports whether pid is a running (not zombie) process.
func alive(pid int) bool {
	st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return false
	}
	return !strings.HasPrefix(procField(st, "State"), "Z")
}

// Killing `kabiforge dev` with SIGTERM or SIGINT stops its dev server child
// and dev exits 0; a crash (SIGKILL) leaves no dev server behind either.
// The child is gone within seconds.
func TestDevSignalStopsDevServer(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cfg := devConfig(t, dir, devtest.FreePort(t), devtest.FreePort(t))
			start := time.Now()
			r := startDev(t, dir, "dev", "--config", cfg)
			r.waitUI(t, 15*time.Second) // about 1-2 s on 2 busy cores
			t.Logf("startup to UI ready: %v", time.Since(start))
			kids := devServerChildren(t, r.cmd.Process.Pid)
			if len(kids) != 1 {
				t.Fatalf("kabiforge dev (pid %d) has dev server children %v, want one", r.cmd.Process.Pid, kids)
			}
			if err := r.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			want := 0
			if sig == syscall.SIGKILL {
				want = -1 // killed by the signal
			}
			if code := r.wait(t, 40*time.Second); code != want {
				t.Errorf("kabiforge dev exited %d after %v, want %d:\n%s", code, sig, want, r.out.String())
			}
			for deadline := time.Now().Add(5 * time.Second); alive(kids[0]); time.Sleep(50 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("dev server pid %d still running 5 s after kabiforge dev exited on %v", kids[0], sig)
				}
			}
		})
	}
}

// A dev server left from a crashed run (or any program) holding the
// frontend or UI port is reported by port, not reused: dev exits non-zero,
// and the program holding the port keeps running.
func TestDevReportsPortInUse(t *testing.T) {
	t.Run("frontend held by an earlier dev server", func(t *testing.T) {
		left := devtest.Start(t, devtest.Options{Headless: true})
		_, port, err := splitPort(left.Frontend)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		r := startDev(t, dir, "dev", "--config", devConfig(t, dir, port, devtest.FreePort(t)))
		if code := r.wait(t, 60*time.Second); code == 0 {
			t.Fatalf("kabiforge dev exited 0 with its frontend port taken:\n%s", r.out.String())
		}
		if out := r.out.String(); !strings.Contains(out, left.Frontend) || !strings.Contains(out, "in use") {
			t.Errorf("error does not name the port %s in use:\n%s", left.Frontend, out)
		}
		select {
		case <-left.Process().Exited():
			t.Errorf("the earlier dev server was stopped: %v", left.Process().Err())
		default:
		}
	})
	t.Run("UI held by another program", func(t *testing.T) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		go func() { // answer like a web server would
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
				c.Close()
			}
		}()
		ui := l.Addr().(*net.TCPAddr).Port
		dir := t.TempDir()
		r := startDev(t, dir, "dev", "--config", devConfig(t, dir, devtest.FreePort(t), ui))
		if code := r.wait(t, 60*time.Second); code == 0 {
			t.Fatalf("kabiforge dev exited 0 with its UI port taken:\n%s", r.out.String())
		}
		if out := r.out.String(); !strings.Contains(out, l.Addr().String()) || !strings.Contains(out, "in use") {
			t.Errorf("error does not name the UI port %s in use:\n%s", l.Addr(), out)
		}
	})
}

// An invalid configuration file never starts anything: `kabiforge worker`
// and `kabiforge dev` exit 2 listing every problem, the worker never dials
// the configured frontend, dev never starts a dev server or creates its
// data directory.
func TestInvalidConfigStartsNothing(t *testing.T) {
	frontend, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer frontend.Close()
	dialed := make(chan struct{}, 1)
	go func() {
		for {
			c, err := frontend.Accept()
			if err != nil {
				return
			}
			c.Close()
			select {
			case dialed <- struct{}{}:
			default:
			}
		}
	}()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	bad := filepath.Join(dir, "bad.yaml")
	yaml := fmt.Sprintf(`data_dir: %s
temporal: {address: %q}
sources:
  - {name: up, url: "ftp://example.com/kernels"}
http: {ui: "127.0.0.1:notaport", repo: "127.0.0.1:%d"}
kmods:
  - {name: fragiledrv, rebuild: sometimes}
`, data, frontend.Addr(), devtest.FreePort(t))
	if err := os.WriteFile(bad, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	wantProblems := []string{"bad.yaml:4: sources[0].url:", "bad.yaml:5: http.ui:", "bad.yaml:7: kmods[0].rebuild:"}
	for _, command := range []string{"worker", "dev"} {
		t.Run(command, func(t *testing.T) {
			start := time.Now()
			r := startDev(t, dir, command, "--config", bad)
			if code := r.wait(t, 10*time.Second); code != 2 {
				t.Errorf("kabiforge %s --config bad.yaml exited %d, want 2:\n%s", command, code, r.out.String())
			}
			out := r.out.String()
			for _, p := range wantProblems {
				if !strings.Contains(out, p) {
					t.Errorf("kabiforge %s does not report %q:\n%s", command, p, out)
				}
			}
			if _, err := os.Stat(data); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("kabiforge %s created its data directory %s (%v)", command, data, err)
			}
			if pids := processesMentioning(t, dir); len(pids) > 0 {
				t.Errorf("kabiforge %s left processes %v running on %s", command, pids, dir)
			}
			t.Logf("kabiforge %s rejected the file in %v", command, time.Since(start))
		})
	}
	select {
	case <-dialed:
		t.Error("a command dialled the configured Temporal frontend despite the invalid file")
	default:
	}
}

// processesMentioning returns the pids whose command line contains s.
func processesMentioning(t *testing.T, s string) []int {
	t.Helper()
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		if cl, err := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline")); err == nil && bytes.Contains(cl, []byte(s)) && alive(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}
