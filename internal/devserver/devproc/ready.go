package devproc

import (
	"encoding/json"
	"strings"
)

// Ready is what kabiforge-devserver reports on stdout, as one JSON line, once
// its frontend answers, its namespaces and search attributes are registered
// and its UI (unless headless) serves.
type Ready struct {
	Ready     bool   `json:"ready"`     // always true in a ready line
	Frontend  string `json:"frontend"`  // host:port of the frontend gRPC API
	UI        string `json:"ui"`        // base URL of the UI; "" when headless
	Namespace string `json:"namespace"` // the first namespace, "default"
	DB        string `json:"db"`        // SQLite file; "" when in memory
	PID       int    `json:"pid"`       // process id of the dev server
}

// String returns r as the one-line JSON the dev server prints.
func (r Ready) String() string {
	r.Ready = true
	b, _ := json.Marshal(r) // a struct of strings and ints always marshals
	return string(b)
}

// ParseReady reads a ready line; ok is false for any other line.
func ParseReady(line string) (r Ready, ok bool) {
	line = strings.TrimSpace(line)
	if !strings.HasPrefix(line, "{") {
		return Ready{}, false
	}
	if err := json.Unmarshal([]byte(line), &r); err != nil || !r.Ready || r.Frontend == "" {
		return Ready{}, false
	}
	return r, true
}
