package devtest_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
)

var kernelNVR = temporal.NewSearchAttributeKeyKeyword("KernelNVR")

// parentEnv makes the test binary act as a parent that starts a dev server,
// prints its frontend address and waits to be killed.
const parentEnv = "DEVTEST_PARENT_OF"

func TestMain(m *testing.M) {
	if bin := os.Getenv(parentEnv); bin != "" {
		ctx, cancel := context.WithTimeout(context.Background(), devtest.StartTimeout)
		defer cancel()
		p, err := devproc.Start(ctx, bin, devproc.Options{Port: freePort(), Headless: true}, os.Stderr)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println(p.Frontend, p.PID())
		select {}
	}
	os.Exit(m.Run())
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

const taskQueue = "devtest"

// Greet is a trivial workflow: one activity call.
func Greet(ctx workflow.Context, name string) (string, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 10 * time.Second})
	var out string
	err := workflow.ExecuteActivity(ctx, Hello, name).Get(ctx, &out)
	return out, err
}

// Hello is Greet's activity.
func Hello(_ context.Context, name string) (string, error) { return "hello " + name, nil }

func dial(t *testing.T, srv *devtest.Server) client.Client {
	t.Helper()
	c, err := client.Dial(client.Options{HostPort: srv.Frontend, Namespace: srv.Namespace})
	if err != nil {
		t.Fatalf("dial %s: %v", srv.Frontend, err)
	}
	t.Cleanup(c.Close)
	return c
}

// eventually retries check every 100 ms for up to 15 s; visibility in
// Temporal is eventually consistent.
func eventually(t *testing.T, what string, check func() error) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		err := check()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %v", what, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestWorkflowRunsIsSearchableShownInUIAndSurvivesRestart(t *testing.T) {
	db := filepath.Join(t.TempDir(), "data", "temporal.db")
	srv := devtest.Start(t, devtest.Options{DBFile: db})
	if srv.Namespace != "default" || srv.DB != db || !strings.HasPrefix(srv.UI, "http://127.0.0.1:") {
		t.Fatalf("ready line = %+v, want namespace default, db %s and a UI URL", srv.Ready, db)
	}
	c := dial(t, srv)

	w := worker.New(c, taskQueue, worker.Options{})
	w.RegisterWorkflow(Greet)
	w.RegisterActivity(Hello)
	if err := w.Start(); err != nil {
		t.Fatalf("start worker: %v", err)
	}

	const nvr = "kernel-5.14.0-570.el9"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                    "kernel/" + nvr,
		TaskQueue:             taskQueue,
		TypedSearchAttributes: temporal.NewSearchAttributes(kernelNVR.ValueSet(nvr)),
	}, Greet, "kabi")
	if err != nil {
		t.Fatalf("start workflow: %v", err)
	}
	var got string
	if err := run.Get(ctx, &got); err != nil || got != "hello kabi" {
		t.Fatalf("workflow result = %q, %v; want \"hello kabi\"", got, err)
	}

	query := fmt.Sprintf("KernelNVR = %q", nvr)
	eventually(t, "list by KernelNVR", func() error {
		resp, err := c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return err
		}
		for _, e := range resp.GetExecutions() {
			if e.GetExecution().GetWorkflowId() == run.GetID() && e.GetStatus() == enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED {
				return nil
			}
		}
		return fmt.Errorf("%s not among %d completed executions matching %s", run.GetID(), len(resp.GetExecutions()), query)
	})

	eventually(t, "UI API lists the workflow", func() error {
		return devtest.UIListsWorkflow(srv.UI, query, run.GetID())
	})

	w.Stop()
	srv.Stop(t)
	srv = devtest.Start(t, devtest.Options{DBFile: db})
	c = dial(t, srv)
	if !historyCompleted(t, c, run.GetID()) {
		t.Fatalf("after restart on %s, history of %s has no completion event", db, run.GetID())
	}
	eventually(t, "list by KernelNVR after restart", func() error {
		n, err := c.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Query: query})
		if err != nil {
			return err
		}
		if n.GetCount() != 1 {
			return fmt.Errorf("count(%s) = %d, want 1", query, n.GetCount())
		}
		return nil
	})
}

func historyCompleted(t *testing.T, c client.Client, id string) bool {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	it := c.GetWorkflowHistory(ctx, id, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			t.Fatalf("history of %s: %v", id, err)
		}
		if ev.GetEventType() == enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED {
			return true
		}
	}
	return false
}

func TestBusyPortIsReportedByName(t *testing.T) {
	bin := devtest.Binary(t)
	held, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	busy := held.Addr().(*net.TCPAddr).Port

	for _, tc := range []struct {
		name string
		opts devproc.Options
		want string
	}{
		{"frontend", devproc.Options{Port: busy, UIPort: devtest.FreePort(t)},
			fmt.Sprintf("frontend port 127.0.0.1:%d is in use", busy)},
		{"UI", devproc.Options{Port: devtest.FreePort(t), UIPort: busy},
			fmt.Sprintf("UI port 127.0.0.1:%d is in use", busy)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), devtest.StartTimeout)
			defer cancel()
			p, err := devproc.Start(ctx, bin, tc.opts, nil)
			if err == nil {
				p.Stop(time.Minute)
				t.Fatalf("started with port %d held by the test", busy)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v\nwant it to contain %q", err, tc.want)
			}
		})
	}
}

func TestServesAsTheSDKTestsuiteDevServer(t *testing.T) {
	bin := devtest.Binary(t)
	ctx, cancel := context.WithTimeout(context.Background(), devtest.StartTimeout)
	defer cancel()
	srv, err := testsuite.StartDevServer(ctx, testsuite.DevServerOptions{
		ExistingPath:     bin,
		ClientOptions:    &client.Options{Namespace: "kabi-test"},
		SearchAttributes: temporal.NewSearchAttributes(temporal.NewSearchAttributeKeyString("Note").ValueSet("")),
		LogLevel:         "error",
		Stdout:           io.Discard,
	})
	if err != nil {
		t.Fatalf("testsuite.StartDevServer with ExistingPath %s: %v", bin, err)
	}
	resp, err := srv.Client().OperatorService().ListSearchAttributes(ctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: "kabi-test"})
	if err != nil {
		t.Fatalf("list search attributes: %v", err)
	}
	want := map[string]enumspb.IndexedValueType{
		"KernelNVR":   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"KabiStage":   enumspb.INDEXED_VALUE_TYPE_KEYWORD,
		"KabiBroken":  enumspb.INDEXED_VALUE_TYPE_BOOL,
		"KmodsFailed": enumspb.INDEXED_VALUE_TYPE_INT,
		"Note":        enumspb.INDEXED_VALUE_TYPE_TEXT,
	}
	for name, typ := range want {
		if got := resp.GetCustomAttributes()[name]; got != typ {
			t.Errorf("search attribute %s = %v, want %v", name, got, typ)
		}
	}
	if err := srv.Stop(); err != nil {
		t.Errorf("stop on SIGINT: %v", err)
	}
}

func TestDevServerStopsWhenItsParentDies(t *testing.T) {
	bin := devtest.Binary(t)
	parent := exec.Command(os.Args[0], "-test.run=^$")
	parent.Env = append(os.Environ(), parentEnv+"="+bin)
	parent.Stderr = os.Stderr
	out, err := parent.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := parent.Start(); err != nil {
		t.Fatal(err)
	}
	var frontend string
	var pid int
	if _, err := fmt.Fscanln(out, &frontend, &pid); err != nil {
		_ = parent.Process.Kill()
		t.Fatalf("parent did not report a started dev server: %v", err)
	}
	t.Cleanup(func() {
		if t.Failed() { // do not leave the orphan running
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	if c, err := net.Dial("tcp", frontend); err != nil {
		t.Fatalf("dev server started by the parent does not listen on %s: %v", frontend, err)
	} else {
		c.Close()
	}

	if err := parent.Process.Kill(); err != nil { // SIGKILL: the parent cannot clean up
		t.Fatal(err)
	}
	_ = parent.Wait()
	eventually(t, "dev server gone after its parent was killed", func() error {
		c, err := net.Dial("tcp", frontend)
		if err != nil {
			return nil
		}
		c.Close()
		return fmt.Errorf("%s still accepts connections", frontend)
	})
}

func TestSearchAttributesAreAddedToAnExistingDatabase(t *testing.T) {
	bin := devtest.Binary(t)
	db := filepath.Join(t.TempDir(), "temporal.db")
	start := func(extra map[string]string) *devproc.Process {
		ctx, cancel := context.WithTimeout(context.Background(), devtest.StartTimeout)
		defer cancel()
		p, err := devproc.Start(ctx, bin, devproc.Options{
			Port: devtest.FreePort(t), Headless: true, DBFile: db, SearchAttributes: extra,
		}, nil)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	first := start(nil)
	if err := first.Stop(time.Minute); err != nil {
		t.Fatal(err)
	}

	// Attributes given at namespace creation are ignored for an existing
	// file; the server must add this one through the operator service.
	second := start(map[string]string{"Arch": "Keyword"})
	defer second.Stop(time.Minute)
	c, err := client.Dial(client.Options{HostPort: second.Frontend})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	resp, err := c.OperatorService().ListSearchAttributes(context.Background(),
		&operatorservice.ListSearchAttributesRequest{Namespace: "default"})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range map[string]enumspb.IndexedValueType{
		"Arch": enumspb.INDEXED_VALUE_TYPE_KEYWORD, "KernelNVR": enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	} {
		if got := resp.GetCustomAttributes()[name]; got != typ {
			t.Errorf("after restart with --search-attribute %s=Keyword: %s = %v, want %v", name, name, got, typ)
		}
	}
}
