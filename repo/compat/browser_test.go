package compat_test

import (
	"bytes"
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/compat"
	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
)

// TestPageInChromium writes a page into a store, serves it with repo serve
// on 127.0.0.1 and reads it back from the DOM headless Chromium rendered:
// the cell of each kmod on each kernel says its state in words.
func TestPageInChromium(t *testing.T) {
	browser := testutil.Chromium(t)
	dir := t.TempDir()
	st, err := store.OpenDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	page := compat.Page{Repo: "el9", Install: []string{"sudo dnf config-manager --add-repo http://x/el9.repo"},
		Kernels: []compat.Kernel{
			{NVR: "6.1.0-47.el9", Arch: "x86_64", Kind: compat.Published, Kmods: map[string]compat.Cell{
				"hellodrv": {State: compat.Rebuilt, Version: "1.0-1.el9"}, "miscdrv": {State: compat.Kept}}},
			{NVR: "6.1.0-57.el9", Arch: "x86_64", Kind: compat.Reference, Kmods: map[string]compat.Cell{
				"hellodrv": {State: compat.Broken, Symbols: []string{"module_layout"}}, "miscdrv": {State: compat.Compatible}}},
		}}
	var buf bytes.Buffer
	if err := compat.Render(&buf, page); err != nil {
		t.Fatal(err)
	}
	if _, err := st.Put(context.Background(), "el9/index.html", bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(serve.Handler(st, zerolog.Nop()))
	defer srv.Close()

	cells := testutil.PageCells(t, browser.DOM(t, srv.URL+"/el9/"))
	for _, tc := range []struct{ kernel, kmod, want string }{
		{"6.1.0-47.el9", "hellodrv", "rebuilt"},
		{"6.1.0-47.el9", "miscdrv", "kept"},
		{"6.1.0-57.el9", "hellodrv", "broken"},
		{"6.1.0-57.el9", "miscdrv", "compatible"},
	} {
		if got := cells[tc.kernel+"/"+tc.kmod]; !strings.HasPrefix(got, tc.want) {
			t.Errorf("cell %s × %s reads %q, want %s…", tc.kernel, tc.kmod, got, tc.want)
		}
	}
	shot := filepath.Join(testutil.ArtifactDir(t), "compat-page.png")
	browser.Screenshot(t, srv.URL+"/el9/", shot)
	if fi, err := os.Stat(shot); err != nil || fi.Size() < 1000 {
		t.Errorf("screenshot %s: %v", shot, err)
	}
	t.Logf("screenshot: %s", shot)
}
