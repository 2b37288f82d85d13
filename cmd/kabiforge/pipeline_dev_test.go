package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/devserver/devtest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/workflows"
)

// kabiforge dev --demo: the demo kernel and kmods, then the next kernel,
// are rebuilt, published and served; dnf installs the next kernel and every
// kmod over HTTP with gpgcheck and repo_gpgcheck.
func TestDevDemo(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	testutil.RequireTool(t, "dnf")
	bin := devtest.Binary(t)
	t.Setenv("PATH", filepath.Dir(bin)+string(os.PathListSeparator)+os.Getenv("PATH"))
	dir := t.TempDir()
	frontend := fmt.Sprintf("127.0.0.1:%d", devtest.FreePort(t))
	repoAddr := fmt.Sprintf("127.0.0.1:%d", devtest.FreePort(t))
	cfg := filepath.Join(dir, "kabiforge.yaml")
	yaml := fmt.Sprintf("data_dir: %s\ntemporal: {address: %q}\nhttp: {repo: %q, ui: \"127.0.0.1:%d\"}\n",
		filepath.Join(dir, "data"), frontend, repoAddr, devtest.FreePort(t))
	if err := os.WriteFile(cfg, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	var out string
	go func() {
		var err error
		out, err = runCLI(ctx, "dev", "--demo", "--config", cfg)
		done <- err
	}()
	next := "4.18.0-80.1.2.el8_0"
	for deadline := time.Now().Add(4 * time.Minute); ; time.Sleep(time.Second) {
		st, err := runCLI(context.Background(), "status", next, "--config", cfg)
		if err == nil && strings.Contains(st, ": "+workflows.StagePublished+"\n") {
			if !strings.Contains(st, "kmod fragiledrv: rebuilt") || !strings.Contains(st, "kmod stabledrv: compatible") {
				t.Errorf("status of the next kernel:\n%s", st)
			}
			break
		}
		select {
		case err := <-done:
			t.Fatalf("dev ended: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("next kernel not published: %v\n%s", err, st)
		}
	}
	base := "http://" + repoAddr + "/el8/"
	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "el8", BaseURL: base, GPGKey: base + "RPM-GPG-KEY-el8"})
	if o, err := root.Install("kernel-core-"+next, "kmod-stabledrv", "kmod-fragiledrv", "kmod-tunabledrv"); err != nil {
		t.Errorf("dnf install over HTTP: %v\n%s", err, o)
	}
	stop()
	if err := <-done; err != nil {
		t.Errorf("dev: %v", err)
	}
	for _, want := range []string{"Temporal UI:  http://127.0.0.1:", "repository:   " + base, "el8.repo"} {
		if !strings.Contains(out, want) {
			t.Errorf("banner lacks %q:\n%s", want, out)
		}
	}
}
