package main

import (
	"bytes"
	"context"
	"net"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/kabiforge/kabiforge/cmd/kabiforge-devserver/internal/devserver"
	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
)

// A bad search attribute type is refused before anything starts, naming the
// flag and the type.
func TestRunRejectsBadSearchAttributeType(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"server", "start-dev", "--headless", "--search-attribute", "Team=Colour"}, &stdout, &stderr)
	if code != 2 {
		t.Fatalf("exit code %d, want 2; stderr: %s", code, stderr.String())
	}
	if msg := stderr.String(); !strings.Contains(msg, "--search-attribute Team") || !strings.Contains(msg, `"Colour"`) {
		t.Errorf("stderr %q does not name the flag and the type", msg)
	}
	if stdout.Len() != 0 {
		t.Errorf("printed a ready line for a refused command line: %q", stdout.String())
	}
}

// The command line's namespaces come after "default", once each; --headless
// serves no UI; "localhost" becomes an IP address the server can bind.
func TestServerOptions(t *testing.T) {
	o, err := devproc.ParseArgs([]string{"server", "start-dev", "--ip", "localhost", "--port", "7300", "--headless",
		"--namespace", "kabi", "--namespace", "default", "--namespace", "kabi",
		"--search-attribute", "Team=keyword"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := serverOptions(o, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"default", "kabi"}; !slices.Equal(got.Namespaces, want) {
		t.Errorf("namespaces %v, want %v", got.Namespaces, want)
	}
	if got.IP != "127.0.0.1" || got.Port != 7300 || got.UIPort != 0 {
		t.Errorf("ip %s port %d ui port %d, want 127.0.0.1 7300 0", got.IP, got.Port, got.UIPort)
	}
	if got.SearchAttributes["Team"] != enums.INDEXED_VALUE_TYPE_KEYWORD || got.SearchAttributes["KernelNVR"] != enums.INDEXED_VALUE_TYPE_KEYWORD {
		t.Errorf("search attributes %v lack Team or kabiforge's own", got.SearchAttributes)
	}
}

// The server linked into this module starts in memory and registers
// kabiforge's search attributes, as the frontend itself reports them.
func TestStartRegistersSearchAttributes(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	s, err := devserver.Start(ctx, devserver.Options{IP: "127.0.0.1", Port: port, Log: logger(devproc.Options{}, &bytes.Buffer{})})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Stop()

	conn, err := grpc.NewClient(s.Frontend(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	lctx, lcancel := context.WithTimeout(ctx, 30*time.Second)
	defer lcancel()
	got, err := operatorservice.NewOperatorServiceClient(conn).ListSearchAttributes(lctx,
		&operatorservice.ListSearchAttributesRequest{Namespace: s.Namespace()})
	if err != nil {
		t.Fatal(err)
	}
	for name, typ := range devserver.SearchAttributes() {
		if have, ok := got.GetCustomAttributes()[name]; !ok || have != typ {
			t.Errorf("search attribute %s: frontend has %v (present %v), want %v", name, have, ok, typ)
		}
	}
}
