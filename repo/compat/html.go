package compat

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
)

// pageTemplate is the whole page: no script, states written as words,
// header cells scoped for screen readers, colours only as a second cue.
var pageTemplate = template.Must(template.New("page").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Repo}}: kernel and kmod compatibility</title>
<style>
body{font-family:system-ui,sans-serif;margin:2rem;color:#111}
table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #999;padding:.3rem .6rem;text-align:left;vertical-align:top}
thead th{background:#eee}
tr.reference th[scope=row]{font-style:italic}
.rebuilt,.kept,.compatible{background:#e3f4e3}
.excluded,.broken{background:#fbe3e3}
.unknown{background:#f4f0d8}
.state{font-weight:bold}
small{display:block;color:#333}
caption{text-align:left;max-width:60rem}
pre{background:#f6f6f6;padding:.6rem;overflow-x:auto}
</style>
</head>
<body>
<h1>{{.Repo}}: kernel and kmod compatibility</h1>
<p>Generated {{.Generated.UTC.Format "2006-01-02 15:04:05 UTC"}} by the publish that wrote this repository's metadata{{if .Revision}} (revision <span id="revision">{{.Revision}}</span>){{end}}.
Machine-readable: <a href="status.json">status.json</a>.</p>
<h2>Install</h2>
<pre id="install">{{range .Install}}{{.}}
{{end}}</pre>
<h2>Kernels and kmods</h2>
{{if not .Kernels}}<p id="empty">Nothing is published yet.</p>{{else}}
<table id="matrix">
<caption>Rows: kernels, newest first (reference kernels are checked for drift, never published). Columns: kmods.
States: rebuilt (built for this kernel), kept (an earlier build, proven compatible), excluded (left out at the gate),
compatible or broken (drift of a reference kernel), unknown (could not be checked).</caption>
<thead><tr><th scope="col">Kernel</th><th scope="col">Kind</th>{{range .Names}}<th scope="col">{{.}}</th>{{end}}<th scope="col">Reports</th></tr></thead>
<tbody>
{{range $k := .Rows}}<tr class="{{$k.Kind}}" data-kernel="{{$k.NVR}}" data-arch="{{$k.Arch}}">
<th scope="row">{{$k.NVR}}.{{$k.Arch}}{{if $k.Note}}<small>{{$k.Note}}</small>{{end}}</th>
<td>{{$k.Kind}}{{if $k.Stream}} ({{$k.Stream}}){{end}}</td>
{{range $n := $.Names}}{{with index $k.Kmods $n}}<td class="{{.State}}" data-kmod="{{$n}}" data-state="{{.State}}"><span class="state">{{.State}}</span>{{if .Version}}<small>{{.Version}}</small>{{end}}{{if .Reason}}<small>{{.Reason}}</small>{{end}}{{if .Symbols}}<small>symbols: {{range $i, $s := .Symbols}}{{if $i}}, {{end}}<code>{{$s}}</code>{{end}}</small>{{end}}{{if .Greylisted}}<small>{{.Greylisted}} greylisted</small>{{end}}{{if .Link}}<small><a href="{{.Link}}">details</a></small>{{end}}</td>{{else}}<td data-kmod="{{$n}}" data-state="none">not built</td>{{end}}{{end}}
<td>{{range $i, $l := $k.Links}}{{if $i}} · {{end}}<a href="{{$l.Href}}">{{$l.Label}}</a>{{end}}</td>
</tr>
{{end}}</tbody>
</table>{{end}}
</body>
</html>
`))

// view is what the template reads: the sorted page and its column names.
type view struct {
	Page
	Rows  []Kernel
	Names []string
}

// Render writes p as index.html.
func Render(w io.Writer, p Page) error {
	if err := p.Validate(); err != nil {
		return err
	}
	s := p.Sorted()
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, view{Page: s, Rows: s.Kernels, Names: s.KmodNames()}); err != nil {
		return fmt.Errorf("render index.html of %s: %w", p.Repo, err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("write index.html of %s: %w", p.Repo, err)
	}
	return nil
}
