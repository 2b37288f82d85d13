package build

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// logSink takes a build's output: it writes it to the log file, passes each
// line to the caller's callback and keeps the last TailLines lines.
type logSink struct {
	mu    sync.Mutex
	w     io.Writer
	onLog func(string)
	tail  []string
	next  int
	full  bool
}

func newLogSink(w io.Writer, onLog func(string)) *logSink {
	return &logSink{w: w, onLog: onLog, tail: make([]string, TailLines)}
}

// Printf writes one line of kabiforge's own to the log.
func (s *logSink) Printf(format string, args ...any) {
	s.line(fmt.Sprintf(format, args...))
}

func (s *logSink) line(l string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.w != nil {
		io.WriteString(s.w, l+"\n")
	}
	s.tail[s.next] = l
	s.next = (s.next + 1) % len(s.tail)
	s.full = s.full || s.next == 0
	if s.onLog != nil {
		s.onLog(l)
	}
}

// Tail returns the last lines logged, oldest first.
func (s *logSink) Tail() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.full {
		return append([]string(nil), s.tail[:s.next]...)
	}
	return append(append([]string(nil), s.tail[s.next:]...), s.tail[:s.next]...)
}

// exitStatus is how a command ended: its exit code, or -1 when it did not
// exit normally.
type exitStatus int

// run runs argv in dir in a process group of its own, with stdout and stderr
// streamed line by line to sink. When ctx is done it kills the whole group
// and returns context.Cause(ctx). A command that ran and exited non-zero
// returns its status and a nil error; err is for failures to run at all.
func run(ctx context.Context, sink *logSink, dir string, argv ...string) (exitStatus, error) {
	return runGrace(ctx, sink, dir, 0, nil, argv...)
}

// runGrace is run, but on cancel it first sends the group SIGTERM and waits
// up to grace for it to exit before SIGKILL, so a tool such as mock can
// unmount its buildroot. env, when not nil, is the command's environment.
func runGrace(ctx context.Context, sink *logSink, dir string, grace time.Duration, env []string, argv ...string) (exitStatus, error) {
	if err := context.Cause(ctx); err != nil {
		return -1, err
	}
	sink.Printf("+ %s", strings.Join(argv, " "))
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		return -1, fmt.Errorf("run %s: %w", argv[0], err)
	}
	defer pr.Close()
	cmd.Stdout, cmd.Stderr = pw, pw
	err = cmd.Start()
	pw.Close()
	if err != nil {
		return -1, fmt.Errorf("run %s: %w", argv[0], err)
	}
	pgid := cmd.Process.Pid
	read := make(chan struct{})
	go func() {
		defer close(read)
		copyLines(pr, sink)
	}()
	exited := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
		case <-exited:
			return
		}
		if grace > 0 {
			syscall.Kill(-pgid, syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(grace):
			}
		}
		syscall.Kill(-pgid, syscall.SIGKILL)
	}()
	werr := cmd.Wait()
	close(exited)
	// Children left behind by a finished command die with their group.
	syscall.Kill(-pgid, syscall.SIGKILL)
	pr.SetReadDeadline(time.Now().Add(2 * time.Second))
	<-read
	if err := context.Cause(ctx); err != nil {
		return -1, err
	}
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		return exitStatus(ee.ExitCode()), nil
	}
	if werr != nil {
		return -1, fmt.Errorf("run %s: %w", argv[0], werr)
	}
	return 0, nil
}

// copyLines passes each line read from r to sink.
func copyLines(r io.Reader, sink *logSink) {
	br := bufio.NewReaderSize(r, 64<<10)
	for {
		l, err := br.ReadString('\n')
		if l != "" {
			sink.line(strings.TrimRight(l, "\r\n"))
		}
		if err != nil {
			return
		}
	}
}
