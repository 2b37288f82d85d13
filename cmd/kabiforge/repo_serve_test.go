package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// startRepoServe runs `kabiforge repo serve args...` in process and returns
// its base URL and a function that stops it and returns its error.
func startRepoServe(t *testing.T, args ...string) (string, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a := &app{}
	root := a.rootCommand()
	pr, pw := io.Pipe()
	root.SetOut(pw)
	root.SetErr(io.Discard)
	root.SetArgs(append([]string{"--log-format", "json", "--log-level", "warn", "repo", "serve"}, args...))
	done := make(chan error, 1)
	go func() {
		err := root.ExecuteContext(ctx)
		pw.CloseWithError(errors.New("command ended"))
		done <- err
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		cancel()
		t.Fatalf("repo serve did not start: %v (%v)", err, <-done)
	}
	go io.Copy(io.Discard, pr)
	_, url, _ := strings.Cut(strings.TrimSpace(line), " on ")
	stop := func() error {
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(15 * time.Second):
			return errors.New("repo serve did not stop")
		}
	}
	t.Cleanup(func() { stop() })
	return url, stop
}

func TestRepoServeServesAFolderUntilCancelled(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "repodata"), 0o755)
	os.WriteFile(filepath.Join(dir, "repodata", "repomd.xml"), []byte("<repomd/>"), 0o644)
	url, stop := startRepoServe(t, dir, "--listen", "127.0.0.1:0")
	resp, err := http.Get(url + "repodata/repomd.xml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "<repomd/>" || resp.Header.Get("Content-Type") != "application/xml" {
		t.Errorf("GET repomd.xml = %d %q %s", resp.StatusCode, b, resp.Header.Get("Content-Type"))
	}
	if err := stop(); err != nil {
		t.Errorf("stop: %v", err)
	}
}

func TestRepoServeRejectsAMissingFolderAndABusyPort(t *testing.T) {
	if out, code := runRepoServe(t, filepath.Join(t.TempDir(), "missing")); code != 2 || !strings.Contains(out, "missing") {
		t.Errorf("missing folder: exit %d, %s", code, out)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	out, code := runRepoServe(t, t.TempDir(), "--listen", ln.Addr().String())
	if code != 2 || !strings.Contains(out, "--listen "+ln.Addr().String()) {
		t.Errorf("busy port: exit %d, %s", code, out)
	}
}

func runRepoServe(t *testing.T, args ...string) (string, int) {
	t.Helper()
	a := &app{}
	root := a.rootCommand()
	root.SetOut(io.Discard)
	root.SetArgs(append([]string{"--log-format", "json", "repo", "serve"}, args...))
	err := root.ExecuteContext(context.Background())
	var ee *exitError
	if errors.As(err, &ee) {
		return err.Error(), ee.code
	}
	if err != nil {
		return err.Error(), 1
	}
	return "", 0
}
