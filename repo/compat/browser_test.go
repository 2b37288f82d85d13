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
	"golang.org/x/net/html"

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

	cells := Cells(t, browser.DOM(t, srv.URL+"/el9/"))
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

// Cells reads a rendered compatibility page: the text of every kmod cell,
// keyed "kernel-nvr/kmod", from the DOM as the browser serialised it.
func Cells(t testing.TB, dom string) map[string]string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(dom))
	if err != nil {
		t.Fatalf("parse DOM: %v", err)
	}
	out := map[string]string{}
	var walk func(n *html.Node, kernel string)
	walk = func(n *html.Node, kernel string) {
		if n.Type == html.ElementNode {
			if k := attr(n, "data-kernel"); n.Data == "tr" && k != "" {
				kernel = k
			}
			if m := attr(n, "data-kmod"); n.Data == "td" && m != "" && kernel != "" {
				out[kernel+"/"+m] = strings.TrimSpace(text(n))
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, kernel)
		}
	}
	walk(doc, "")
	if len(out) == 0 {
		t.Fatalf("no kmod cells in the DOM:\n%s", dom)
	}
	return out
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func text(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(text(c))
		b.WriteByte(' ')
	}
	return b.String()
}
