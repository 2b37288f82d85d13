package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rs/zerolog"
)

// TestLogLevelFromConfig: a configuration's log_level applies unless
// --log-level is given; --log-format takes console, json or auto only.
func TestLogLevelFromConfig(t *testing.T) {
	file := filepath.Join(t.TempDir(), "k.yaml")
	if err := os.WriteFile(file, []byte("log_level: error\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		args    []string
		want    zerolog.Level
		wantErr string
	}{
		{args: []string{"config", "check", file}, want: zerolog.ErrorLevel},
		{args: []string{"--log-level", "debug", "config", "check", file}, want: zerolog.DebugLevel},
		{args: []string{"--log-format", "console", "config", "check", file}, want: zerolog.ErrorLevel},
		{args: []string{"--log-format", "xml", "config", "check", file}, wantErr: `--log-format "xml"`},
	} {
		a := &app{}
		root := a.rootCommand()
		root.SetOut(io.Discard)
		root.SetErr(io.Discard)
		root.SetArgs(tt.args)
		err := root.ExecuteContext(context.Background())
		switch {
		case tt.wantErr != "":
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || exitCode(err) != 2 {
				t.Errorf("%v: %v, want exit 2 with %q", tt.args, err, tt.wantErr)
			}
		case err != nil:
			t.Errorf("%v: %v", tt.args, err)
		case a.log.GetLevel() != tt.want:
			t.Errorf("%v: level %v, want %v", tt.args, a.log.GetLevel(), tt.want)
		}
	}
}
