package testutil

import (
	"context"
	"os/exec"
	"syscall"
	"testing"
	"time"
)

// chromiumNames are the names Debian, Fedora and Google give the browser.
var chromiumNames = []string{"chromium", "chromium-browser", "google-chrome"}

// Browser is a headless Chromium for page tests: a fresh profile, no
// background networking (this machine's network is closed), no sandbox (tests
// run as root).
type Browser struct {
	path    string
	profile string
}

// Chromium returns a headless browser, or stops the test (failing under CI)
// when none is installed.
func Chromium(t testing.TB) *Browser {
	t.Helper()
	for _, n := range chromiumNames {
		if p, err := exec.LookPath(n); err == nil {
			return &Browser{path: p, profile: t.TempDir()}
		}
	}
	Unavailable(t, "no chromium installed (run scripts/ensure-tools.sh)")
	return nil
}

// DOM loads url and returns the document as the browser rendered it.
func (b *Browser) DOM(t testing.TB, url string) string {
	t.Helper()
	return string(b.run(t, "--dump-dom", url))
}

// Screenshot loads url and writes a PNG of it to file.
func (b *Browser) Screenshot(t testing.TB, url, file string) {
	t.Helper()
	b.run(t, "--screenshot="+file, "--window-size=1280,900", "--hide-scrollbars", url)
}

func (b *Browser) run(t testing.TB, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	argv := append([]string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
		"--no-first-run", "--disable-background-networking", "--disable-component-update",
		"--disable-sync", "--disable-dev-shm-usage", "--user-data-dir=" + b.profile}, args...)
	cmd := exec.CommandContext(ctx, b.path, argv...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	var stderr limitedBuffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("chromium %v: %v\n%s", args, err, stderr.b)
	}
	return out
}

// limitedBuffer keeps the first 16 KiB written to it.
type limitedBuffer struct{ b []byte }

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := 16<<10 - len(l.b); room > 0 {
		l.b = append(l.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}
