package devproc

import (
	"errors"
	"flag"
	"io"
	"reflect"
	"strings"
	"testing"
)

func TestParseArgsReadsTheSDKTestsuiteCommandLine(t *testing.T) {
	// The command line go.temporal.io/sdk/testsuite.StartDevServer builds.
	args := strings.Fields("server start-dev --ip 127.0.0.1 --port 40001 --namespace default " +
		"--dynamic-config-value frontend.enableServerVersionCheck=false --log-level warn --log-format pretty " +
		"--headless --db-filename /tmp/x.db --ui-port 40002 --search-attribute Note=Text")
	got, err := ParseArgs(args, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	want := Options{
		IP: "127.0.0.1", Port: 40001, UIPort: 40002, Headless: true,
		Namespaces: []string{"default"}, DBFile: "/tmp/x.db",
		SearchAttributes: map[string]string{"Note": "Text"},
		DynamicConfig:    map[string]any{"frontend.enableServerVersionCheck": false},
		LogLevel:         "warn", LogFormat: "pretty",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("ParseArgs =\n%+v\nwant\n%+v", got, want)
	}
}

func TestArgsRoundTrip(t *testing.T) {
	o := Options{
		IP: "127.0.0.1", Port: 7000, UIPort: 7001, Namespaces: []string{"a", "b"}, DBFile: "d b.db",
		SearchAttributes: map[string]string{"X": "Int", "Y": "Bool"},
		DynamicConfig:    map[string]any{"k.int": 3, "k.bool": true, "k.str": "s", "k.float": 0.5},
		LogLevel:         "error", LogFormat: "json",
	}
	got, err := ParseArgs(o.Args(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, o) {
		t.Fatalf("ParseArgs(Args()) =\n%+v\nwant\n%+v", got, o)
	}
}

func TestParseArgsDefaults(t *testing.T) {
	o, err := ParseArgs(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if o.IP != "127.0.0.1" || o.Port != 7233 || o.UIPortOrDefault() != 8233 || o.Headless || o.DBFile != "" || o.LogLevel != "warn" {
		t.Fatalf("defaults = %+v (UI port %d)", o, o.UIPortOrDefault())
	}
}

func TestParseArgsRejectsBadInput(t *testing.T) {
	for _, tc := range []struct{ args, want string }{
		{"--port 0", "--port 0: not a TCP port"},
		{"--ui-port 70000", "--ui-port 70000: not a TCP port"},
		{"--search-attribute NoType", `"NoType" is not Name=Type`},
		{"--log-level loud", `--log-level "loud"`},
		{"--log-format xml", `--log-format "xml"`},
		{"--bogus", "flag provided but not defined: -bogus"},
		{"extra", `unexpected argument "extra"`},
	} {
		_, err := ParseArgs(strings.Fields(tc.args), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseArgs(%q) error = %v, want it to contain %q", tc.args, err, tc.want)
		}
	}
	if _, err := ParseArgs([]string{"--help"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: error = %v, want flag.ErrHelp", err)
	}
}

func TestDynamicValue(t *testing.T) {
	for in, want := range map[string]any{
		"false": false, "12": 12, "1.5": 1.5, `"x"`: "x", "plain": "plain", "1 2": "1 2",
		"[true]": []any{true},
	} {
		got := DynamicValue(in)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("DynamicValue(%q) = %#v, want %#v", in, got, want)
		}
	}
}

func TestReadyLineRoundTrip(t *testing.T) {
	r := Ready{Frontend: "127.0.0.1:7233", UI: "http://127.0.0.1:8233", Namespace: "default", DB: "/x y/t.db", PID: 42}
	got, ok := ParseReady(r.String() + "\n")
	r.Ready = true
	if !ok || got != r {
		t.Fatalf("ParseReady(%s) = %+v, %v", r, got, ok)
	}
	for _, line := range []string{"", "ready", `{"level":"warn","message":"x"}`, `{"ready":true}`} {
		if _, ok := ParseReady(line); ok {
			t.Errorf("ParseReady(%q) accepted a line that is not a ready line", line)
		}
	}
}
