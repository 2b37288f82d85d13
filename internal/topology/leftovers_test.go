//go:build topology

package topology

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A topology test leaves processes (PostgreSQL, Temporal, versitygw,
// workers), network namespaces, veth links, an address on lo and folders
// behind if it dies before its cleanups run: killed, or timed out (go
// test's timeout panics past every t.Cleanup). So each run writes a ledger
// of what it made, marks every process it starts with envMark in its
// environment, removes what dead runs left when it starts, and removes its
// own a minute before its deadline.

// envMark is the environment variable naming the run in every process it
// starts, children of children (postmaster, ip netns exec) included.
const envMark = "KABIFORGE_TOPOLOGY"

// ledger is what a run made that outlives it.
type ledger struct {
	ID       string   // the network id: prefix of namespaces and links
	PID      int      // the test process
	Services string   // the address on lo
	Dirs     []string // folders outside t.TempDir (PostgreSQL's, for its user)
}

func ledgerDir() string { return filepath.Join(os.TempDir(), "kabiforge-topology") }

func (l *ledger) path() string { return filepath.Join(ledgerDir(), l.ID+".json") }

// save writes the ledger; it is called again as the run makes more.
func (l *ledger) save(t *testing.T) {
	t.Helper()
	b, _ := json.Marshal(l) // strings and ints always marshal
	if err := os.MkdirAll(ledgerDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(l.path(), b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// begin sweeps what dead runs left, then records this run in a ledger,
// marks the processes it will start and arms the watchdog.
func begin(t *testing.T, id, services string) *ledger {
	t.Helper()
	sweep(t)
	l := &ledger{ID: id, PID: os.Getpid(), Services: services}
	l.save(t)
	t.Setenv(envMark, id)
	t.Cleanup(func() { os.Remove(l.path()) })
	if deadline, ok := t.Deadline(); ok {
		timer := time.AfterFunc(time.Until(deadline)-time.Minute, func() { l.expire() })
		t.Cleanup(func() { timer.Stop() })
	}
	return l
}

// sweep tears down every ledger whose test process is gone.
func sweep(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(ledgerDir(), "*.json"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		var l ledger
		if err != nil || json.Unmarshal(b, &l) != nil || l.ID == "" {
			continue
		}
		if running(l.PID) {
			continue
		}
		t.Logf("removing what topology run %s (pid %d, gone) left behind", l.ID, l.PID)
		l.teardown()
	}
}

// running reports whether pid is a live topology test process.
func running(pid int) bool {
	cmd, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return err == nil && bytes.Contains(cmd, []byte("topology.test"))
}

// expire is the watchdog: the test is about to time out, after which no
// cleanup would run. It prints every goroutine (what go test's timeout
// would have printed), removes what the run made and exits.
func (l *ledger) expire() {
	buf := make([]byte, 1<<20)
	buf = buf[:runtime.Stack(buf, true)]
	fmt.Fprintf(os.Stderr, "topology: the test is about to reach its -timeout; removing run %s's processes, namespaces and folders\n%s\n", l.ID, buf)
	l.teardown()
	fmt.Fprintln(os.Stderr, "FAIL: topology test ran out of time")
	os.Exit(1)
}

// teardown kills the run's processes and removes its namespaces, links,
// address, folders and ledger. Each step is best effort: it runs on what is
// left of a run, whatever state it died in.
func (l *ledger) teardown() {
	killMarked(l.ID)
	out, _ := exec.Command("ip", "netns", "list").Output()
	for _, line := range strings.Split(string(out), "\n") {
		if name, _, _ := strings.Cut(line, " "); strings.HasPrefix(name, l.ID+"-") {
			ipQuiet("netns", "del", name)
		}
	}
	out, _ = exec.Command("ip", "-o", "link", "show").Output()
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 {
			if name, _, _ := strings.Cut(strings.TrimSuffix(f[1], ":"), "@"); strings.HasPrefix(name, l.ID) {
				ipQuiet("link", "del", name)
			}
		}
	}
	if l.Services != "" {
		ipQuiet("addr", "del", l.Services+"/32", "dev", "lo")
	}
	for _, d := range l.Dirs {
		os.RemoveAll(d)
	}
	os.Remove(l.path())
}

// killMarked SIGKILLs every process whose environment carries the run's
// mark, other than this one.
func killMarked(id string) {
	mark := []byte(envMark + "=" + id + "\x00")
	procs, _ := os.ReadDir("/proc")
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", p.Name(), "environ"))
		if err == nil && bytes.Contains(append(env, 0), mark) {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// A run that died (here: a ledger whose process has exited) leaves a
// marked process, a namespace, a veth link, an address and a folder; the
// next run's sweep removes them all and only them.
func TestSweepRemovesWhatADeadRunLeft(t *testing.T) {
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	l := &ledger{ID: "kfdead" + strconv.Itoa(os.Getpid()%10000), PID: dead.Process.Pid, Services: "10.199.77.254", Dirs: []string{t.TempDir()}}
	ns := l.ID + "-0"
	ipRun(t, "netns", "add", ns)
	ipRun(t, "link", "add", l.ID+"h0", "type", "veth", "peer", "name", l.ID+"n0", "netns", ns)
	ipRun(t, "addr", "add", l.Services+"/32", "dev", "lo")
	t.Cleanup(l.teardown) // should the sweep not work
	left := exec.Command("sleep", "300")
	left.Env = append(os.Environ(), envMark+"="+l.ID)
	other := exec.Command("sleep", "300")
	for _, c := range []*exec.Cmd{left, other} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
	}
	defer other.Process.Kill()
	exited := make(chan error, 1)
	go func() { exited <- left.Wait() }()
	l.save(t)

	sweep(t)

	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Error("the marked process still runs")
	}
	if err := other.Process.Signal(syscall.Signal(0)); err != nil {
		t.Errorf("an unmarked process was killed: %v", err)
	}
	for what, args := range map[string][]string{
		"namespace": {"netns", "list"}, "link": {"-o", "link", "show"}, "address": {"-o", "addr", "show", "dev", "lo"},
	} {
		out, _ := exec.Command("ip", args...).Output()
		if bytes.Contains(out, []byte(l.ID)) || bytes.Contains(out, []byte(l.Services+"/")) {
			t.Errorf("the %s is left: %s", what, out)
		}
	}
	if _, err := os.Stat(l.Dirs[0]); !os.IsNotExist(err) {
		t.Errorf("folder %s is left (%v)", l.Dirs[0], err)
	}
	if _, err := os.Stat(l.path()); !os.IsNotExist(err) {
		t.Errorf("ledger %s is left (%v)", l.path(), err)
	}
}

// A run about to reach go test's -timeout removes what it made and exits
// (go test's own timeout would panic past every cleanup). The run is this
// test binary again, with a -timeout that leaves the watchdog 5 seconds.
func TestWatchdogRemovesARunBeforeItsTimeout(t *testing.T) {
	if os.Getenv("KABIFORGE_WATCHDOG_CHILD") != "" {
		l := begin(t, "kfdog"+strconv.Itoa(os.Getpid()%10000), "10.199.78.254")
		ipRun(t, "netns", "add", l.ID+"-0")
		left := exec.Command("sleep", "300")
		if err := left.Start(); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("child pid=%d ledger=%s\n", left.Process.Pid, l.path())
		time.Sleep(5 * time.Minute) // the watchdog ends this
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestWatchdogRemovesARunBeforeItsTimeout$", "-test.timeout", "65s", "-test.v")
	cmd.Env = append(os.Environ(), "KABIFORGE_WATCHDOG_CHILD=1")
	began := time.Now()
	out, err := cmd.CombinedOutput()
	if err == nil || !bytes.Contains(out, []byte("about to reach its -timeout")) {
		t.Fatalf("child: %v; want exit 1 from the watchdog:\n%s", err, out)
	}
	if took := time.Since(began); took > 40*time.Second {
		t.Errorf("the watchdog fired after %v, want about 5 s", took)
	}
	var pid int
	var path string
	if i := bytes.Index(out, []byte("child pid=")); i < 0 {
		t.Fatalf("no child line:\n%s", out)
	} else if _, err := fmt.Sscanf(string(out[i:]), "child pid=%d ledger=%s", &pid, &path); err != nil {
		t.Fatal(err)
	}
	if alive(pid) {
		syscall.Kill(pid, syscall.SIGKILL)
		t.Errorf("the run's process %d still runs", pid)
	}
	ns, _ := exec.Command("ip", "netns", "list").Output()
	if bytes.Contains(ns, []byte("kfdog")) {
		t.Errorf("the run's namespace is left: %s", ns)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("ledger %s is left (%v)", path, err)
	}
}

// alive reports whether pid runs, waiting a little for a killed process
// to be gone (an orphan is a zombie until init reaps it).
func alive(pid int) bool {
	for range 50 {
		stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			return false
		}
		if _, rest, _ := bytes.Cut(stat, []byte(") ")); bytes.HasPrefix(rest, []byte("Z")) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}
