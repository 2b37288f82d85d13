package testutil

import (
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// PageCells reads a rendered compatibility page: the text of every kmod cell,
// keyed "kernel-nvr/kmod", from the DOM as the browser serialised it.
func PageCells(t testing.TB, dom string) map[string]string {
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
