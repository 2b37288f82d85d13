// Package devproc runs the kabiforge-devserver binary (an embedded Temporal
// server and UI) as a child process. It defines the binary's command line and
// its ready line, and never links the Temporal server itself, so `kabiforge`
// and tests can use it cheaply.
package devproc

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"
)

// Defaults of the dev server's command line.
const (
	DefaultIP        = "127.0.0.1"
	DefaultPort      = 7233
	DefaultNamespace = "default"
)

// Options are the settings of one dev server process. They map one to one to
// the flags of `kabiforge-devserver server start-dev`, which are the flags the
// Temporal SDK's testsuite.StartDevServer passes to an ExistingPath binary.
type Options struct {
	IP       string // --ip: address the frontend and UI listen on
	Port     int    // --port: frontend gRPC port
	UIPort   int    // --ui-port: 0 means Port+1000 (8233 for the default port)
	Headless bool   // --headless: no UI

	// Namespaces (--namespace, repeatable) are registered besides "default".
	Namespaces []string
	// DBFile (--db-filename) is the SQLite file; "" keeps state in memory.
	DBFile string
	// SearchAttributes (--search-attribute Name=Type, repeatable) are added to
	// kabiforge's own attributes in every namespace.
	SearchAttributes map[string]string
	// DynamicConfig (--dynamic-config-value key=JSON, repeatable) overrides
	// server dynamic config; a value that is not JSON is taken as a string.
	DynamicConfig map[string]any

	LogLevel  string // --log-level: debug, info, warn (default) or error
	LogFormat string // --log-format: json (default) or pretty
}

// UIPortOrDefault returns the UI port the server will use.
func (o Options) UIPortOrDefault() int {
	if o.UIPort != 0 {
		return o.UIPort
	}
	return min(o.Port+1000, 65535)
}

// Args returns the command line that makes kabiforge-devserver run with o.
func (o Options) Args() []string {
	args := []string{"server", "start-dev"}
	if o.IP != "" {
		args = append(args, "--ip", o.IP)
	}
	if o.Port != 0 {
		args = append(args, "--port", strconv.Itoa(o.Port))
	}
	if o.UIPort != 0 {
		args = append(args, "--ui-port", strconv.Itoa(o.UIPort))
	}
	if o.Headless {
		args = append(args, "--headless")
	}
	for _, ns := range o.Namespaces {
		args = append(args, "--namespace", ns)
	}
	if o.DBFile != "" {
		args = append(args, "--db-filename", o.DBFile)
	}
	for _, k := range sortedKeys(o.SearchAttributes) {
		args = append(args, "--search-attribute", k+"="+o.SearchAttributes[k])
	}
	for _, k := range sortedKeys(o.DynamicConfig) {
		v, err := json.Marshal(o.DynamicConfig[k])
		if err != nil {
			v = []byte(fmt.Sprint(o.DynamicConfig[k]))
		}
		args = append(args, "--dynamic-config-value", k+"="+string(v))
	}
	if o.LogLevel != "" {
		args = append(args, "--log-level", o.LogLevel)
	}
	if o.LogFormat != "" {
		args = append(args, "--log-format", o.LogFormat)
	}
	return args
}

// ParseArgs reads a kabiforge-devserver command line (without the program
// name). Leading "server" and "start-dev" words are accepted and ignored.
// Usage goes to usage when the command line is wrong or asks for help; the
// error is then flag.ErrHelp or names the bad flag.
func ParseArgs(args []string, usage io.Writer) (Options, error) {
	for _, word := range []string{"server", "start-dev"} {
		if len(args) > 0 && args[0] == word {
			args = args[1:]
		}
	}
	o := Options{SearchAttributes: map[string]string{}, DynamicConfig: map[string]any{}}
	fs := flag.NewFlagSet("kabiforge-devserver server start-dev", flag.ContinueOnError)
	fs.SetOutput(usage)
	fs.StringVar(&o.IP, "ip", DefaultIP, "IP address the frontend and the UI listen on")
	fs.IntVar(&o.Port, "port", DefaultPort, "frontend gRPC port")
	fs.IntVar(&o.UIPort, "ui-port", 0, "UI port (default: port+1000, so 8233)")
	fs.BoolVar(&o.Headless, "headless", false, "do not serve the UI")
	fs.Func("namespace", "namespace to register besides \"default\" (repeatable)", func(s string) error {
		if s == "" {
			return fmt.Errorf("empty namespace")
		}
		o.Namespaces = append(o.Namespaces, s)
		return nil
	})
	fs.StringVar(&o.DBFile, "db-filename", "", "SQLite file keeping state across restarts (default: in memory)")
	fs.Func("search-attribute", "extra search attribute Name=Type (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" || v == "" {
			return fmt.Errorf("%q is not Name=Type", s)
		}
		o.SearchAttributes[k] = v
		return nil
	})
	fs.Func("dynamic-config-value", "dynamic config key=JSON value (repeatable)", func(s string) error {
		k, v, ok := strings.Cut(s, "=")
		if !ok || k == "" {
			return fmt.Errorf("%q is not key=value", s)
		}
		o.DynamicConfig[k] = DynamicValue(v)
		return nil
	})
	fs.StringVar(&o.LogLevel, "log-level", "warn", "server log level: debug, info, warn or error")
	fs.StringVar(&o.LogFormat, "log-format", "json", "log format on stderr: json or pretty")
	if err := fs.Parse(args); err != nil {
		return Options{}, err
	}
	if fs.NArg() > 0 {
		return Options{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if err := o.validate(); err != nil {
		return Options{}, err
	}
	return o, nil
}

func (o Options) validate() error {
	for name, p := range map[string]int{"--port": o.Port, "--ui-port": o.UIPort} {
		if p < 0 || p > 65535 || (name == "--port" && p == 0) {
			return fmt.Errorf("%s %d: not a TCP port", name, p)
		}
	}
	switch o.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("--log-level %q: use debug, info, warn or error", o.LogLevel)
	}
	switch o.LogFormat {
	case "json", "pretty":
	default:
		return fmt.Errorf("--log-format %q: use json or pretty", o.LogFormat)
	}
	return nil
}

// DynamicValue converts a dynamic config value from the command line: JSON
// integers become int (what the server's int settings expect), other JSON
// values their natural Go type, and anything else stays a string.
func DynamicValue(s string) any {
	dec := json.NewDecoder(bytes.NewReader([]byte(s)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return s
	}
	if n, ok := v.(json.Number); ok {
		if i, err := n.Int64(); err == nil {
			return int(i)
		}
		f, _ := n.Float64()
		return f
	}
	return v
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
