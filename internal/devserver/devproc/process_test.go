package devproc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// script writes an executable shell script standing in for the server's
// start-up behaviour, which is what Start supervises.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "server")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// bindLog is the line the Temporal server logs when a port is taken.
const bindLog = `{"level":"error","error":"listen tcp 127.0.0.1:%s: bind: address already in use","service":"worker"}`

func TestStartRetriesWhenAnInternalPortWasTaken(t *testing.T) {
	marker := filepath.Join(t.TempDir(), "tried")
	bin := script(t, `
if [ ! -e `+marker+` ]; then
	touch `+marker+`
	printf '`+bindLog+`\n' 40771 >&2
	exit 2
fi
echo '{"ready":true,"frontend":"127.0.0.1:7233"}'
sleep 30
`)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := Start(ctx, bin, Options{Port: 7233, Headless: true}, nil)
	if err != nil {
		t.Fatalf("Start after one taken internal port: %v", err)
	}
	defer p.Stop(time.Second)
	if p.Frontend != "127.0.0.1:7233" {
		t.Fatalf("frontend %q", p.Frontend)
	}
}

func TestStartReportsTheCallersPortInUse(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	bin := script(t, `echo x >> `+count+`
printf '`+bindLog+`\n' 7233 >&2
exit 2
`)
	_, err := Start(context.Background(), bin, Options{Port: 7233, Headless: true}, nil)
	port, taken := PortInUse(err)
	if !taken || port != 7233 || !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Start = %v; want port 7233 in use", err)
	}
	if b, _ := os.ReadFile(count); len(b) != 2 {
		t.Fatalf("started %d times for the caller's own port, want once", len(b)/2)
	}
}

func TestStartGivesUpAfterRepeatedInternalPortClashes(t *testing.T) {
	count := filepath.Join(t.TempDir(), "count")
	bin := script(t, `echo x >> `+count+`
printf '`+bindLog+`\n' 40771 >&2
exit 2
`)
	_, err := Start(context.Background(), bin, Options{Port: 7233, Headless: true}, nil)
	if port, taken := PortInUse(err); !taken || port != 40771 {
		t.Fatalf("Start = %v; want port 40771 in use", err)
	}
	if b, _ := os.ReadFile(count); len(b) != 2*startAttempts {
		t.Fatalf("started %d times, want %d", len(b)/2, startAttempts)
	}
}
