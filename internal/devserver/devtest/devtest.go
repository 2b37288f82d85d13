// Package devtest starts real kabiforge-devserver processes (Temporal server
// on SQLite, plus the UI) for tests of any package. It runs the binary rather
// than linking the server, so a test binary that uses it stays small.
//
//	srv := devtest.Start(t, devtest.Options{})
//	c, err := client.Dial(client.Options{HostPort: srv.Frontend, Namespace: srv.Namespace})
//
// The binary is built (go install, cached by the go command) once per test
// process into the user cache directory; set KABIFORGE_DEVSERVER to use a
// prebuilt one. When the binary cannot be built the test fails under CI=true
// and is skipped elsewhere; when it is built but does not start, the test
// fails.
package devtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// StartTimeout bounds how long Start waits for the server to be ready.
const StartTimeout = 2 * time.Minute

// stopGrace is how long a stopping server may take before it is killed.
const stopGrace = 30 * time.Second

// Options choose how a test server runs. The zero value is an in-memory
// server with the UI, on free ports.
type Options struct {
	DBFile   string // SQLite file; "" keeps state in memory
	Headless bool   // no UI
	Port     int    // frontend port; 0 picks a free one
	UIPort   int    // UI port; 0 picks a free one
	LogLevel string // server log level; "" means warn
}

// Server is a dev server process started for a test.
type Server struct {
	devproc.Ready // Frontend, UI, Namespace, DB, PID
	proc          *devproc.Process
}

// Stop shuts the server down (SIGTERM) and fails t unless it exits cleanly.
// Start registers it as a cleanup; calling it earlier, for example to
// restart on the same DB file, is fine.
func (s *Server) Stop(t testing.TB) {
	t.Helper()
	if err := s.proc.Stop(stopGrace); err != nil {
		t.Errorf("stop dev server: %v", err)
	}
}

// Process returns the underlying process, e.g. to watch it exit.
func (s *Server) Process() *devproc.Process { return s.proc }

// Start builds the dev server if needed, starts it with o and stops it when
// the test ends.
func Start(t testing.TB, o Options) *Server {
	t.Helper()
	bin := Binary(t)
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		po := devproc.Options{
			IP: devproc.DefaultIP, Port: o.Port, UIPort: o.UIPort, Headless: o.Headless,
			DBFile: o.DBFile, LogLevel: o.LogLevel,
		}
		if po.Port == 0 {
			po.Port = FreePort(t)
		}
		if po.UIPort == 0 && !po.Headless {
			po.UIPort = FreePort(t)
		}
		ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
		p, err := devproc.Start(ctx, bin, po, &testLog{t: t})
		cancel()
		if err == nil {
			s := &Server{Ready: p.Ready, proc: p}
			t.Cleanup(func() { s.Stop(t) })
			return s
		}
		lastErr = err
		// A free port can be taken between picking and binding; retry
		// only then, and only for a port this helper picked (devproc.Start
		// retries for the server's own).
		port, taken := devproc.PortInUse(err)
		picked := (o.Port == 0 && port == po.Port) || (o.UIPort == 0 && port == po.UIPort)
		if !taken || !picked {
			break
		}
	}
	t.Fatalf("start %s: %v", devproc.BinaryName, lastErr)
	return nil
}

// FreePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("pick a free port: %v", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of a kabiforge-devserver built from this source
// tree (or $KABIFORGE_DEVSERVER), building it on the first call in this test
// process. Concurrent test processes share one build through a file lock.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("KABIFORGE_DEVSERVER"); p != "" {
		return p
	}
	root := testutil.RepoRoot(t)
	build.once.Do(func() { build.path, build.err = install(root) })
	if build.err != nil {
		testutil.Unavailable(t, "dev server unavailable: %v", build.err)
	}
	return build.path
}

// install runs `go install` in the dev server's own module (cmd/kabiforge-devserver,
// which replaces the main module with this source tree) into a cache
// directory; the go command relinks only when the sources changed. GOWORK=off
// makes the build the same with or without a go.work.
func install(root string) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	dir := filepath.Join(cache, "kabiforge", "devtest-bin")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("build %s: %w", devproc.BinaryName, err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", fmt.Errorf("build %s: %w", devproc.BinaryName, err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("build %s: lock %s: %w", devproc.BinaryName, lock.Name(), err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	goTool, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("build %s: the go command is needed: %w", devproc.BinaryName, err)
	}
	cmd := exec.Command(goTool, "install", ".")
	cmd.Dir = filepath.Join(root, "cmd", devproc.BinaryName)
	cmd.Env = append(os.Environ(), "GOBIN="+dir, "GOWORK=off")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go install (in %s): %w\n%s", cmd.Dir, err, out.Bytes())
	}
	return filepath.Join(dir, devproc.BinaryName), nil
}

// testLog copies the server's output into the test log, line by line.
type testLog struct {
	t    testing.TB
	mu   sync.Mutex
	part []byte
}

func (l *testLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, b...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			break
		}
		l.t.Logf("devserver: %s", l.part[:i])
		l.part = l.part[i+1:]
	}
	return len(b), nil
}

// UIListsWorkflow asks the Temporal UI server's HTTP API at ui for the
// workflows matching a visibility query and reports whether the workflow id
// is among them.
func UIListsWorkflow(ui, query, id string) error {
	u := ui + "/api/v1/namespaces/default/workflows?query=" + url.QueryEscape(query)
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	var body struct {
		Executions []struct {
			Execution struct {
				WorkflowID string `json:"workflowId"`
			} `json:"execution"`
		} `json:"executions"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return fmt.Errorf("GET %s: %w", u, err)
	}
	var ids []string
	for _, e := range body.Executions {
		if e.Execution.WorkflowID == id {
			return nil
		}
		ids = append(ids, e.Execution.WorkflowID)
	}
	return fmt.Errorf("GET %s: %s not among the executions %v", u, id, ids)
}
