//go:build topology

package topology

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// cluster is everything the runs share: the services and the build hosts'
// namespaces.
type cluster struct {
	pg       *postgres
	net      *network
	certs    pki
	temporal *temporalServer
	s3       s3Service
	upstream string // SRPMs of the demo kernel and its kmods (a dir source)
	keyFile  string // the repositories' OpenPGP key
	kmods    []string
}

// s3Service is the versitygw serving the stores.
type s3Service struct{ endpoint, accessKey, secretKey, bucket string }

// runConfig writes the kabiforge.yaml of one run: its own namespace and
// store prefixes on the shared cluster, the settings a real deployment
// writes (address, namespace, mTLS, s3:// stores).
func (c *cluster) runConfig(t *testing.T, ns string) string {
	t.Helper()
	var kmods strings.Builder
	for _, k := range c.kmods {
		fmt.Fprintf(&kmods, "  - name: %s\n", k)
	}
	cfg := fmt.Sprintf(`data_dir: %[1]s
temporal:
  address: %[2]s
  namespace: %[3]s
  tls: {ca: %[4]s, cert: %[5]s, key: %[6]s, server_name: %[7]s}
sources:
  - {name: upstream, kind: dir, url: %[8]s, unsigned: true}
streams:
  - {name: el8, version: 4.18.0, release: "*.el8*", arches: [x86_64], repository: el8}
arches:
  - {name: x86_64, queue: build-x86_64}
builder: {kind: rpmbuild, time_limit: 10m, heartbeat_timeout: %[9]s}
kmods:
%[10]sgate: {on: [kmod-failed]}
signing: {key: %[11]s, generate: false}
stores:
  artifacts: s3://%[12]s/%[3]s/artifacts
  repositories:
    - {name: el8, url: s3://%[12]s/%[3]s/repos/el8, baseurl: http://repo.example/el8/}
s3: {endpoint: %[13]s, region: us-east-1, path_style: true}
`, t.TempDir(), c.temporal.frontend, ns, c.certs.ca, c.certs.clientCert, c.certs.clientKey, serverName,
		c.upstream, heartbeat, kmods.String(), c.keyFile, c.s3.bucket, c.s3.endpoint)
	file := filepath.Join(t.TempDir(), "kabiforge.yaml")
	if err := os.WriteFile(file, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	return file
}

// env is the environment every kabiforge process gets: S3 credentials and
// the signing passphrase, as an operator's unit file would set them.
func (c *cluster) env() []string {
	return append(os.Environ(), "AWS_ACCESS_KEY_ID="+c.s3.accessKey, "AWS_SECRET_ACCESS_KEY="+c.s3.secretKey,
		"AWS_REGION=us-east-1", "KABIFORGE_SIGNING_PASSPHRASE="+passphrase, "CI=")
}

// kabiforge runs one kabiforge command to its end and returns its output.
func (c *cluster) kabiforge(t *testing.T, args ...string) string {
	t.Helper()
	cmd := exec.Command(kabiforgeBinary(t), args...)
	cmd.Env = c.env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("kabiforge %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// workerProc is a `kabiforge worker` process, on the host or in a build host's
// network namespace.
type workerProc struct {
	cmd  *exec.Cmd
	host string // the namespace; "" on the host
	done chan struct{}
}

// startWorker starts `kabiforge worker --queues queue` with config, inside
// the namespace netns unless it is "". It is killed when the test ends.
func (c *cluster) startWorker(t *testing.T, config, queue, netns string) *workerProc {
	t.Helper()
	args := []string{kabiforgeBinary(t), "--log-format", "json", "--log-level", "warn", "worker", "--config", config, "--queues", queue}
	if netns != "" {
		args = append([]string{"ip", "netns", "exec", netns}, args...)
	}
	w := &workerProc{cmd: exec.Command(args[0], args[1:]...), host: netns, done: make(chan struct{})}
	w.cmd.Env = c.env()
	w.cmd.Stdout, w.cmd.Stderr = prefixed(t, "worker "+or(netns, "control")+": "), prefixed(t, "worker "+or(netns, "control")+": ")
	w.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { _ = w.cmd.Wait(); close(w.done) }()
	t.Cleanup(func() { w.kill() })
	return w
}

// kill SIGKILLs the worker and everything it started (rpmbuild) at once.
func (w *workerProc) kill() {
	_ = syscall.Kill(-w.cmd.Process.Pid, syscall.SIGKILL)
	<-w.done
}

func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// prefixed copies a process's output into the test log, line by line.
func prefixed(t *testing.T, prefix string) *lineLog { return &lineLog{t: t, prefix: prefix} }

type lineLog struct {
	t      *testing.T
	prefix string
	mu     sync.Mutex
	part   []byte
}

func (l *lineLog) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.part = append(l.part, b...)
	for {
		i := bytes.IndexByte(l.part, '\n')
		if i < 0 {
			return len(b), nil
		}
		l.t.Logf("%s%s", l.prefix, l.part[:i])
		l.part = l.part[i+1:]
	}
}

var kabiforgeBuild struct {
	once sync.Once
	path string
	err  error
}

// kabiforgeBinary builds cmd/kabiforge once per test process into the user
// cache folder (the go command relinks only when sources changed).
func kabiforgeBinary(t *testing.T) string {
	t.Helper()
	kabiforgeBuild.once.Do(func() {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir := filepath.Join(cache, "kabiforge", "topology-bin")
		cmd := exec.Command("go", "install", "./cmd/kabiforge")
		cmd.Dir = testutil.RepoRoot(t)
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			kabiforgeBuild.err = fmt.Errorf("go install ./cmd/kabiforge: %v\n%s", err, out)
			return
		}
		kabiforgeBuild.path = filepath.Join(dir, "kabiforge")
	})
	if kabiforgeBuild.err != nil {
		t.Fatal(kabiforgeBuild.err)
	}
	return kabiforgeBuild.path
}
