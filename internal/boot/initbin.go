package boot

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
)

// InitName is the file name of the built init binary; an installed
// kabiforge finds it beside its own executable (make builds both).
const InitName = "kabiforge-init"

// BuildInit returns the path of the static init binary for GOARCH goarch
// (empty: the host's). It uses InitName beside the running executable when
// present; otherwise it builds internal/boot/init from this source tree with
// the go command (CGO_ENABLED=0) into cacheDir. The go command's own build
// cache makes a repeated build cost a fraction of a second, and no binary is
// kept in the repository, so the init always matches its source.
func BuildInit(ctx context.Context, cacheDir, goarch string) (string, error) {
	if goarch == "" {
		goarch = runtime.GOARCH
	}
	if exe, err := os.Executable(); err == nil && goarch == runtime.GOARCH {
		if p := filepath.Join(filepath.Dir(exe), InitName); isFile(p) {
			return p, nil
		}
	}
	_, file, _, ok := runtime.Caller(0)
	src := filepath.Join(filepath.Dir(file), "init")
	if !ok || !isFile(filepath.Join(src, "main.go")) {
		return "", fmt.Errorf("no %s beside the executable and no source tree to build it from (run make)", InitName)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	out := filepath.Join(cacheDir, InitName+"-"+goarch)
	tmp := fmt.Sprintf("%s.tmp%d", out, os.Getpid())
	defer os.Remove(tmp)
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", tmp, ".")
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+goarch)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("build boot init: %w: %s", err, stderr.Bytes())
	}
	return out, os.Rename(tmp, out) // atomic: a concurrent reader sees a whole binary
}

func isFile(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.Mode().IsRegular()
}
