//go:build topology

package topology

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// postgres is a PostgreSQL cluster of this test process: Debian's server
// binaries, its own data folder, a free port, trust authentication for its
// superuser on loopback.
type postgres struct {
	bin, data string
	port      int
	cred      *syscall.Credential // whom the server runs as (never root)
	user      string              // the superuser
}

// startPostgres creates and starts a cluster; it is stopped and removed when
// the test ends.
func startPostgres(t *testing.T, l *ledger) *postgres {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(bins) == 0 {
		testutil.Unavailable(t, "PostgreSQL server not installed (Debian: apt-get install postgresql; run scripts/ensure-tools.sh)")
	}
	pg := &postgres{bin: filepath.Dir(bins[len(bins)-1])}
	owner, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	root, err := os.MkdirTemp("", "kabiforge-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	l.Dirs = append(l.Dirs, root)
	l.save(t)
	pg.data = filepath.Join(root, "data")
	if owner.Uid == "0" {
		// initdb refuses root: the cluster belongs to Debian's postgres user.
		u, err := user.Lookup("postgres")
		if err != nil {
			testutil.Unavailable(t, "no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		pg.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chmod(root, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(root, uid, gid); err != nil {
			t.Fatal(err)
		}
		pg.user = "postgres"
	} else {
		pg.user = owner.Username
	}
	pg.run(t, "initdb", "-D", pg.data, "-U", pg.user, "-A", "trust", "-E", "UTF8", "--no-sync")
	pg.port = freePort(t)
	conf := fmt.Sprintf("listen_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = '%s'\nfsync = off\nmax_connections = 200\n",
		pg.port, root)
	if err := os.WriteFile(filepath.Join(pg.data, "postgresql.auto.conf"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	pg.start(t)
	t.Cleanup(func() { pg.stop(t) })
	return pg
}

// addr is host:port of the server.
func (pg *postgres) addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(pg.port)) }

// start starts the server and waits until it accepts connections.
func (pg *postgres) start(t *testing.T) {
	t.Helper()
	pg.run(t, "pg_ctl", "-D", pg.data, "-l", filepath.Join(filepath.Dir(pg.data), "postgres.log"), "-w", "-t", "60", "start")
}

// stop stops the server (fast: open connections are dropped), if it runs.
func (pg *postgres) stop(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(pg.data, "postmaster.pid")); err != nil {
		return
	}
	pg.run(t, "pg_ctl", "-D", pg.data, "-m", "fast", "-w", "-t", "60", "stop")
}

func (pg *postgres) run(t *testing.T, tool string, args ...string) {
	t.Helper()
	cmd := exec.Command(filepath.Join(pg.bin, tool), args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pg.cred}
	cmd.Dir = "/"
	if out, err := cmd.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(filepath.Join(filepath.Dir(pg.data), "postgres.log"))
		t.Fatalf("%s %v: %v\n%s\n%s", tool, args, err, out, log)
	}
}

// freePort returns a TCP port on 127.0.0.1 that nothing listens on now.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitFor polls ok until it returns nil or d passes.
func waitFor(t *testing.T, d time.Duration, what string, ok func() error) {
	t.Helper()
	var err error
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if err = ok(); err == nil {
			return
		}
	}
	t.Fatalf("%s: not after %v: %v", what, d, err)
}
