package devproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// BinaryName is the file name of the dev server executable.
const BinaryName = "kabiforge-devserver"

// Process is a running kabiforge-devserver.
type Process struct {
	Ready // where it serves, from its ready line

	cmd      *exec.Cmd
	exited   chan struct{}
	waitErr  error
	stopOnce sync.Once
	stopErr  error
	tail     *tailBuffer
}

// FindBinary returns the dev server executable: the one beside the running
// executable if there is one, else the one on PATH.
func FindBinary() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), BinaryName)
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0 {
			return p, nil
		}
	}
	p, err := exec.LookPath(BinaryName)
	if err != nil {
		return "", fmt.Errorf("find %s beside this executable or on PATH (build it with `make build`, or `go build -C cmd/%s -o DIR .` from the source tree): %w",
			BinaryName, BinaryName, err)
	}
	return p, nil
}

// ErrPortInUse is wrapped by Start's error when the server exited because
// a port it tried to listen on was taken; see PortInUse.
var ErrPortInUse = errors.New("address already in use")

// startAttempts bounds Start's retries after an internal port was taken.
const startAttempts = 3

// Start runs binary with o and waits until it prints its ready line, it
// exits, or ctx ends (then it is killed). The server's stderr, and any stdout
// line other than the ready line, is copied to logs (which may be nil). An
// exit before ready returns an error quoting the end of its stderr, such as
// the name of a port in use.
//
// Besides the frontend and UI ports in o, the server picks free ports for
// its internal services itself, and another process can take one between
// its pick and its bind. Start tries again (up to startAttempts times) when
// the taken port is one of those; a taken port of o's is the caller's to
// handle (see PortInUse).
func Start(ctx context.Context, binary string, o Options, logs io.Writer) (*Process, error) {
	for attempt := 1; ; attempt++ {
		p, err := start(ctx, binary, o, logs)
		port, taken := PortInUse(err)
		if err == nil || !taken || port == o.Port || port == o.UIPort || attempt == startAttempts || ctx.Err() != nil {
			return p, err
		}
	}
}

// PortInUse reports whether err says the server could not listen on a port
// because it was taken, and which port.
func PortInUse(err error) (int, bool) {
	var e *portInUseError
	if errors.As(err, &e) {
		return e.port, true
	}
	return 0, false
}

type portInUseError struct{ port int }

func (e *portInUseError) Error() string { return fmt.Sprintf("port %d: %v", e.port, ErrPortInUse) }
func (e *portInUseError) Unwrap() error { return ErrPortInUse }

func start(ctx context.Context, binary string, o Options, logs io.Writer) (*Process, error) {
	if logs == nil {
		logs = io.Discard
	}
	p := &Process{exited: make(chan struct{}), tail: &tailBuffer{max: 4096}}
	p.cmd = exec.Command(binary, o.Args()...)
	logs = syncWriter(logs)
	p.cmd.Stderr = io.MultiWriter(logs, p.tail)
	p.cmd.SysProcAttr = childAttrs()
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", binary, err)
	}
	ready := make(chan Ready, 1)
	go p.readStdout(stdout, logs, ready)

	select {
	case r := <-ready:
		p.Ready = r
		return p, nil
	case <-p.exited:
		err := fmt.Errorf("%s exited before it was ready (%v): %s", binary, p.waitErr, p.tail.lastLines(8))
		if port, ok := p.tail.portInUse(); ok {
			err = fmt.Errorf("%w: %w", &portInUseError{port}, err)
		}
		return nil, err
	case <-ctx.Done():
		_ = p.cmd.Process.Kill()
		<-p.exited
		return nil, fmt.Errorf("%s not ready: %w; its last output: %s", binary, ctx.Err(), p.tail.lastLines(8))
	}
}

func (p *Process) readStdout(stdout io.Reader, logs io.Writer, ready chan<- Ready) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	seen := false
	for sc.Scan() {
		if r, ok := ParseReady(sc.Text()); ok && !seen {
			seen = true
			ready <- r
			continue
		}
		fmt.Fprintln(logs, sc.Text())
	}
	_, _ = io.Copy(io.Discard, stdout) // a line too long for the scanner
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

// PID returns the process id of the dev server.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Exited is closed when the dev server process has ended.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err returns how the process ended, once Exited is closed.
func (p *Process) Err() error {
	select {
	case <-p.exited:
		return p.waitErr
	default:
		return nil
	}
}

// Stop asks the dev server to shut down (SIGTERM) and waits for it, killing
// it if it is still running after grace. It returns nil when the server shut
// down cleanly. Calling it again returns the first result.
func (p *Process) Stop(grace time.Duration) error {
	p.stopOnce.Do(func() {
		select {
		case <-p.exited:
		default:
			_ = p.cmd.Process.Signal(syscall.SIGTERM)
		}
		timer := time.NewTimer(grace)
		defer timer.Stop()
		select {
		case <-p.exited:
			if p.waitErr != nil {
				p.stopErr = fmt.Errorf("dev server (pid %d) exited: %w: %s", p.PID(), p.waitErr, p.tail.lastLines(8))
			}
		case <-timer.C:
			_ = p.cmd.Process.Kill()
			<-p.exited
			p.stopErr = fmt.Errorf("dev server (pid %d) did not stop within %v after SIGTERM; killed", p.PID(), grace)
		}
	})
	return p.stopErr
}

// tailBuffer keeps the last max bytes written to it, and the first port
// the server reported it could not bind (its panic trace that follows can
// push that line out of the tail).
type tailBuffer struct {
	mu    sync.Mutex
	buf   []byte
	max   int
	inUse int
}

// bindFailed matches the server's log of a port it could not listen on.
var bindFailed = regexp.MustCompile(`listen tcp [^ "]*:(\d+): bind: address already in use`)

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	from := max(0, len(t.buf)-200) // a line split across writes
	t.buf = append(t.buf, b...)
	if m := bindFailed.FindSubmatch(t.buf[from:]); m != nil && t.inUse == 0 {
		t.inUse, _ = strconv.Atoi(string(m[1]))
	}
	if over := len(t.buf) - t.max; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) portInUse() (int, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inUse, t.inUse != 0
}

func (t *tailBuffer) lastLines(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimRight(string(t.buf), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	s := strings.Join(lines, "\n")
	if s == "" {
		return "(no output)"
	}
	return s
}

// syncWriter serialises writes from the stdout and stderr copiers.
func syncWriter(w io.Writer) io.Writer {
	if lw, ok := w.(*lockedWriter); ok {
		return lw
	}
	return &lockedWriter{w: w}
}

type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}
