package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// walker checks a YAML node tree against the Config types before decoding:
// it reports unknown fields and malformed durations with their field paths,
// and records the line of every path so later problems can point at it.
type walker struct {
	lines map[string]int
	probs problems
}

var durationType = reflect.TypeOf(time.Duration(0))

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n == nil {
		return
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			w.walk(c, t, path)
		}
		return
	}
	if n.Kind == yaml.AliasNode {
		w.walk(n.Alias, t, path)
		return
	}
	if path != "" {
		if _, seen := w.lines[path]; !seen {
			w.lines[path] = n.Line
		}
	}
	switch {
	case t == durationType:
		w.duration(n, path)
	case t.Kind() == reflect.Struct && n.Kind == yaml.MappingNode:
		w.mapping(n, t, path)
	case t.Kind() == reflect.Slice && n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			w.walk(c, t.Elem(), fmt.Sprintf("%s[%d]", path, i))
		}
	case t.Kind() == reflect.Map && n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			w.walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
		}
	}
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.Value == "<<" {
			w.walk(v, t, path) // merge key
			continue
		}
		f, ok := fields[k.Value]
		if !ok {
			w.probs.addLine(k.Line, join(path, k.Value), "unknown field%s", suggest(k.Value, fields))
			continue
		}
		w.walk(v, f, join(path, k.Value))
	}
}

func (w *walker) duration(n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		w.probs.addLine(n.Line, path, "not a duration; use a number with a unit, like 90s, 30m or 12h")
		return
	}
	if _, err := time.ParseDuration(n.Value); err != nil {
		w.probs.addLine(n.Line, path, "%q is not a duration; use a number with a unit, like 90s, 30m or 12h", n.Value)
	}
}

// yamlFields maps the YAML names of a struct's fields to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := make(map[string]reflect.Type)
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// suggest names the closest known field, or lists them all.
func suggest(name string, fields map[string]reflect.Type) string {
	known := make([]string, 0, len(fields))
	best, bestD := "", 3
	for k := range fields {
		known = append(known, k)
		if d := distance(strings.ToLower(name), k); d < bestD {
			best, bestD = k, d
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean %q?", best)
	}
	slices.Sort(known)
	return "; known fields: " + strings.Join(known, ", ")
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func join(path, field string) string {
	if path == "" {
		return field
	}
	return path + "." + field
}

// yamlProblems turns the errors of yaml.v3's decoder ("line 7: cannot
// unmarshal ...") into problems, leaving out those the walker reported
// better: unknown fields and durations.
func yamlProblems(err error, lines map[string]int) Problems {
	te, ok := err.(*yaml.TypeError)
	if !ok {
		line, msg := splitLine(strings.TrimPrefix(err.Error(), "yaml: "))
		return Problems{{Line: line, Message: msg}}
	}
	var ps Problems
	for _, msg := range te.Errors {
		if strings.Contains(msg, " not found in type ") || strings.Contains(msg, "time.Duration") {
			continue
		}
		line, msg := splitLine(msg)
		ps = append(ps, Problem{Line: line, Path: pathAt(lines, line), Message: msg})
	}
	return ps
}

// splitLine splits "line 3: did not find expected key" into 3 and the message.
func splitLine(msg string) (int, string) {
	rest, ok := strings.CutPrefix(msg, "line ")
	if !ok {
		return 0, msg
	}
	num, tail, ok := strings.Cut(rest, ": ")
	n, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, msg
	}
	return n, tail
}

// pathAt returns the deepest field path that starts at line, or "".
func pathAt(lines map[string]int, line int) string {
	best := ""
	for p, l := range lines {
		if l == line && len(p) > len(best) {
			best = p
		}
	}
	return best
}
