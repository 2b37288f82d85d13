package devserver

import (
	"fmt"
	"net"
	"strconv"
)

// PortInUseError reports a port the dev server needs but another process
// holds, often a dev server left from an earlier run.
type PortInUseError struct {
	Name string // what the port is for: "frontend", "UI"
	Addr string // host:port
	Err  error
}

func (e *PortInUseError) Error() string {
	return fmt.Sprintf("%s port %s is in use (a dev server from an earlier run, or another program?): %v", e.Name, e.Addr, e.Err)
}

func (e *PortInUseError) Unwrap() error { return e.Err }

// checkPortFree returns a *PortInUseError when host:port cannot be bound.
func checkPortFree(name, host string, port int) error {
	addr := net.JoinHostPort(host, strconv.Itoa(port))
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return &PortInUseError{Name: name, Addr: addr, Err: err}
	}
	return l.Close()
}

// freePort returns a port on host that nothing listens on right now.
func freePort(host string) (int, error) {
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		return 0, fmt.Errorf("pick a free port on %s: %w", host, err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}
