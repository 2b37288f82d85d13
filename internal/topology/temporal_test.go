//go:build topology

package topology

import (
	"bufio"
	"crypto/rand"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
)

// temporalServer is a full Temporal server process (kabiforge-devserver
// server start) on PostgreSQL, its frontend on ip with mTLS.
type temporalServer struct {
	bin, config string
	frontend    string
	cmd         *exec.Cmd
	exited      chan struct{}
}

// startTemporal applies Temporal's schema to pg with the server's own schema
// tool, writes the server configuration and starts the server.
func startTemporal(t *testing.T, pg *postgres, ip string, certs pki) *temporalServer {
	t.Helper()
	s := &temporalServer{bin: devtest.Binary(t)}
	for _, db := range []struct{ name, schema string }{
		{"temporal", "postgresql/v12/temporal"},
		{"temporal_visibility", "postgresql/v12/visibility"},
	} {
		base := []string{"sql-tool", "--plugin", "postgres12", "--endpoint", "127.0.0.1", "--port", strconv.Itoa(pg.port),
			"--user", pg.user, "--database", db.name}
		for _, step := range [][]string{{"create-database"}, {"setup-schema", "-v", "0.0"}, {"update-schema", "--schema-name", db.schema}} {
			if out, err := exec.Command(s.bin, append(base, step...)...).CombinedOutput(); err != nil {
				t.Fatalf("%s %v: %v\n%s", s.bin, append(base, step...), err, out)
			}
		}
	}
	s.frontend = net.JoinHostPort(ip, strconv.Itoa(servicePort(t, ip)))
	s.config = filepath.Join(t.TempDir(), "temporal.yaml")
	if err := os.WriteFile(s.config, []byte(serverConfig(t, pg, ip, s.frontend, certs)), 0o644); err != nil {
		t.Fatal(err)
	}
	s.start(t)
	t.Cleanup(func() { s.stop(t) })
	return s
}

// start runs the server and waits for its ready line.
func (s *temporalServer) start(t *testing.T) {
	t.Helper()
	s.cmd = exec.Command(s.bin, "server", "start", "--config", s.config, "--log-level", "error")
	s.cmd.Stderr = os.Stderr
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := s.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s.exited = make(chan struct{})
	ready := make(chan devproc.Ready, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if r, ok := devproc.ParseReady(sc.Text()); ok {
				ready <- r
			}
		}
		_ = s.cmd.Wait()
		close(s.exited)
	}()
	select {
	case r := <-ready:
		if r.Frontend != s.frontend {
			t.Fatalf("server serves %s, configured %s", r.Frontend, s.frontend)
		}
	case <-s.exited:
		t.Fatalf("temporal server exited before ready: %v", s.cmd.ProcessState)
	case <-time.After(3 * time.Minute):
		t.Fatal("temporal server not ready after 3m")
	}
}

// stop stops the server with SIGTERM (SIGKILL after 30 s).
func (s *temporalServer) stop(t *testing.T) {
	t.Helper()
	select {
	case <-s.exited:
		return
	default:
	}
	_ = syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(30 * time.Second):
		_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.exited
		t.Errorf("temporal server did not stop within 30s of SIGTERM")
	}
}

// servicePort returns a TCP port on ip that nothing listens on now, below
// 32768: Temporal's PostgreSQL schema keeps a service's membership port in
// a SMALLINT (cluster_membership.rpc_port), so a port from the kernel's
// ephemeral range (32768 and up) fails every membership heartbeat and the
// services never find each other ("Not enough hosts to serve the request").
func servicePort(t *testing.T, ip string) int {
	t.Helper()
	for range 100 {
		n, err := rand.Int(rand.Reader, big.NewInt(32767-20000))
		if err != nil {
			t.Fatal(err)
		}
		port := 20000 + int(n.Int64())
		l, err := net.Listen("tcp", net.JoinHostPort(ip, strconv.Itoa(port)))
		if err != nil {
			continue
		}
		l.Close()
		return port
	}
	t.Fatalf("no free port below 32768 on %s", ip)
	return 0
}

// serverConfig is the server's configuration in the Temporal server's own
// format: persistence and visibility in PostgreSQL, every service bound to
// ip, the frontend requiring client certificates from the test CA.
func serverConfig(t *testing.T, pg *postgres, ip, frontend string, c pki) string {
	port := func() int { return servicePort(t, ip) }
	store := func(db string) string {
		return fmt.Sprintf(`      sql:
        pluginName: postgres12
        databaseName: %s
        connectAddr: %q
        connectProtocol: tcp
        user: %s
        maxConns: 20
        maxIdleConns: 20
        maxConnLifetime: 1h
`, db, pg.addr(), pg.user)
	}
	_, fport, _ := net.SplitHostPort(frontend)
	service := func(grpc string) string {
		return fmt.Sprintf("    rpc:\n      grpcPort: %s\n      membershipPort: %d\n      bindOnIP: %s\n", grpc, port(), ip)
	}
	dyn := filepath.Join(t.TempDir(), "dynamic.yaml")
	if err := os.WriteFile(dyn, []byte(dynamicConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf(`log:
  stdout: false
  level: error
persistence:
  defaultStore: default
  visibilityStore: visibility
  numHistoryShards: 4
  datastores:
    default:
%s    visibility:
%sglobal:
  membership:
    maxJoinDuration: 30s
    broadcastAddress: %s
  tls:
    frontend:
      server:
        certFile: %s
        keyFile: %s
        requireClientAuth: true
        clientCaFiles: [%s]
      client:
        serverName: %s
        rootCaFiles: [%s]
    systemWorker:
      certFile: %s
      keyFile: %s
      client:
        serverName: %s
        rootCaFiles: [%s]
services:
  frontend:
%s  history:
%s  matching:
%s  worker:
%sclusterMetadata:
  enableGlobalNamespace: false
  failoverVersionIncrement: 10
  masterClusterName: active
  currentClusterName: active
  clusterInformation:
    active:
      enabled: true
      initialFailoverVersion: 1
      rpcName: frontend
      rpcAddress: %q
dcRedirectionPolicy:
  policy: noop
publicClient:
  hostPort: %q
dynamicConfigClient:
  filepath: %s
  pollInterval: 10s
`, store("temporal"), store("temporal_visibility"), ip,
		c.serverCert, c.serverKey, c.ca, serverName, c.ca,
		c.clientCert, c.clientKey, serverName, c.ca,
		service(fport), service(strconv.Itoa(port())), service(strconv.Itoa(port())), service(strconv.Itoa(port())),
		frontend, frontend, dyn)
}

// dynamicConfig tunes the server for a test: new search attributes are
// visible at once, a new namespace within a second (the default refresh of
// the services' namespace caches is 10 s; `kabiforge cluster setup` waits
// for either), and no calls home.
const dynamicConfig = `system.forceSearchAttributesCacheRefreshOnRead:
  - value: true
system.namespaceCacheRefreshInterval:
  - value: 1s
frontend.enableServerVersionCheck:
  - value: false
`
