package serve_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
)

// BenchmarkServe fetches a 4 MiB package and a small repomd.xml from repo
// serve and, in the same run, from `python3 -m http.server` over the same
// folder, the server people reach for to serve a repository by hand.
func BenchmarkServe(b *testing.B) {
	dir := b.TempDir()
	s, err := store.OpenDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	pkg := make([]byte, 4<<20)
	rand.Read(pkg)
	s.Put(b.Context(), "Packages/kernel.rpm", bytes.NewReader(pkg))
	s.Put(b.Context(), "repodata/repomd.xml", bytes.NewReader(bytes.Repeat([]byte("<data/>\n"), 512)))

	ours := httptest.NewServer(serve.Handler(s, zerolog.Nop()))
	defer ours.Close()
	servers := map[string]string{"kabiforge": ours.URL}
	if py, err := exec.LookPath("python3"); err == nil {
		servers["python-http.server"] = startPython(b, py, dir)
	}
	for _, file := range []string{"repodata/repomd.xml", "Packages/kernel.rpm"} {
		for _, name := range []string{"kabiforge", "python-http.server"} {
			url, ok := servers[name]
			if !ok {
				continue
			}
			b.Run(fmt.Sprintf("%s/%s", filepath.Base(file), name), func(b *testing.B) {
				for b.Loop() {
					resp, err := http.Get(url + "/" + file)
					if err != nil {
						b.Fatal(err)
					}
					n, _ := io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					b.SetBytes(n)
				}
			})
		}
	}
}

func startPython(b *testing.B, py, dir string) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := l.Addr().(*net.TCPAddr)
	l.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, py, "-m", "http.server", "--bind", "127.0.0.1", "--directory", dir, fmt.Sprint(addr.Port))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cancel(); cmd.Wait() })
	for range 100 {
		if c, err := net.Dial("tcp", addr.String()); err == nil {
			c.Close()
			return fmt.Sprintf("http://%s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.Fatal("python3 -m http.server did not start")
	return ""
}
