package serve

import (
	"html/template"
	"net/http"
	"strings"

	"github.com/kabiforge/kabiforge/repo/store"
)

// maxIndexEntries bounds a folder listing.
const maxIndexEntries = 10000

var indexPage = template.Must(template.New("index").Parse(`<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Index of /{{.Prefix}}</title></head>
<body><h1>Index of /{{.Prefix}}</h1><ul>
{{range .Names}}<li><a href="{{.}}">{{.}}</a></li>
{{end}}</ul></body></html>
`))

// pageName is the page a folder URL serves when the folder has one: the
// compatibility page a publish writes at a repository's root.
const pageName = "index.html"

// hasPage reports whether the folder prefix holds an index.html.
func (h *handler) hasPage(r *http.Request, prefix string) bool {
	if prefix != "" && store.ValidKey(strings.TrimSuffix(prefix, "/")) != nil {
		return false
	}
	_, err := h.store.Stat(r.Context(), prefix+pageName)
	return err == nil
}

// serveIndex lists the names directly below prefix ("" for the root).
func (h *handler) serveIndex(w http.ResponseWriter, r *http.Request, prefix string) {
	if prefix != "" && store.ValidKey(strings.TrimSuffix(prefix, "/")) != nil {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	var names []string
	for info, err := range h.store.List(r.Context(), prefix) {
		if err != nil {
			h.fail(w, r, err)
			return
		}
		name, _, isDir := strings.Cut(strings.TrimPrefix(info.Key, prefix), "/")
		if isDir {
			name += "/"
		}
		if len(names) == 0 || names[len(names)-1] != name {
			names = append(names, name)
		}
		if len(names) >= maxIndexEntries {
			break
		}
	}
	if len(names) == 0 && prefix != "" {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	if r.Method == http.MethodHead {
		return
	}
	indexPage.Execute(w, struct {
		Prefix string
		Names  []string
	}{prefix, names})
}
