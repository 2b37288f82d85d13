package config

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// walker checks a YAML node tree against the Config types before decoding:
// it reports unknown fields and malformed durations with their field paths,
// and records the line of every path so later problems can point at it.
type walker struct {
	lines map[string]int   // the line of each path (its first occurrence)
	at    map[int]string   // the deepest path on each line
	keys  map[int][]string // the paths of the mapping keys on each line
	probs problems
	nodes int // nodes visited, bounded by maxNodes against alias bombs
	// complexKey is set when a mapping key is not a scalar: the decoder
	// is then not run on the file (such keys made yaml.v3 panic).
	complexKey bool
}

// maxNodes bounds the nodes a file may expand to through aliases.
const maxNodes = 100_000

func newWalker() *walker {
	return &walker{lines: map[string]int{}, at: map[int]string{}, keys: map[int][]string{}}
}

var durationType = reflect.TypeOf(time.Duration(0))

func (w *walker) walk(n *yaml.Node, t reflect.Type, path string) {
	if n == nil || w.nodes > maxNodes {
		return
	}
	if w.nodes++; w.nodes > maxNodes {
		w.probs.addLine(n.Line, path, "the file expands to over %d nodes through aliases; write it out plainly", maxNodes)
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
		if len(path) > len(w.at[n.Line]) {
			w.at[n.Line] = path
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
			if !w.plainKey(n.Content[i], path) {
				continue
			}
			w.walk(n.Content[i+1], t.Elem(), join(path, n.Content[i].Value))
		}
	}
}

func (w *walker) mapping(n *yaml.Node, t reflect.Type, path string) {
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if !w.plainKey(k, path) {
			continue
		}
		if k.Value == "<<" {
			w.walk(v, t, path) // merge key
			continue
		}
		w.keys[k.Line] = append(w.keys[k.Line], join(path, k.Value))
		f, ok := fields[k.Value]
		if !ok {
			w.probs.addLine(k.Line, join(path, k.Value), "unknown field%s", suggest(k.Value, fields))
			w.at[k.Line] = join(path, k.Value)
			continue
		}
		w.walk(v, f, join(path, k.Value))
	}
}

// plainKey reports whether the mapping key k is a scalar; a mapping or a
// list used as a key (which YAML allows and no configuration field is) is a
// problem, and the file is then not decoded further.
func (w *walker) plainKey(k *yaml.Node, path string) bool {
	if k.Kind == yaml.ScalarNode {
		return true
	}
	w.complexKey = true
	w.probs.addLine(k.Line, path, "a key that is a mapping, a list or an alias (%q); keys are plain names", k.Value)
	return false
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
func yamlProblems(err error, w *walker) Problems {
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
		ps = append(ps, Problem{Line: line, Path: w.pathAt(line, msg), Message: plainTypeError(msg)})
	}
	return ps
}

// pathAt returns the field path a decoder error on line is about: the key a
// duplicate-key error names, else the deepest path on the line.
func (w *walker) pathAt(line int, msg string) string {
	var key string
	if _, err := fmt.Sscanf(msg, "mapping key %q", &key); err == nil {
		for _, p := range w.keys[line] {
			if p == key || strings.HasSuffix(p, "."+key) {
				return p
			}
		}
	}
	return w.at[line]
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

var typeErrorRE = regexp.MustCompile("^cannot unmarshal !!(\\w+) (?:`(.*)` )?into (.+)$")

// plainTypeError rewrites "cannot unmarshal !!str `two` into int" as
// "got `two`; want a whole number".
func plainTypeError(msg string) string {
	m := typeErrorRE.FindStringSubmatch(msg)
	if m == nil {
		return msg
	}
	got := "a " + yamlKinds[m[1]]
	if m[2] != "" {
		got = "`" + m[2] + "`"
	}
	want := "a " + m[3]
	switch t := m[3]; {
	case strings.HasPrefix(t, "[]"):
		want = "a list (- item lines or [a, b])"
	case strings.HasPrefix(t, "map["), strings.HasPrefix(t, "config."):
		want = "a mapping (field: value lines)"
	case strings.HasPrefix(t, "int"), strings.HasPrefix(t, "uint"):
		want = "a whole number"
	case t == "bool":
		want = "true or false"
	case t == "string":
		want = "a string"
	}
	return "got " + got + "; want " + want
}

var yamlKinds = map[string]string{"str": "string", "int": "number", "float": "number", "bool": "boolean", "seq": "list", "map": "mapping", "null": "null"}
