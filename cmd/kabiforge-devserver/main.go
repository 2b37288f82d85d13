// Command kabiforge-devserver runs a Temporal server with SQLite persistence
// and the Temporal UI on this machine, with kabiforge's namespace and search
// attributes registered. `kabiforge dev` and the tests start it; its command
// line is the one the Temporal SDK's testsuite.StartDevServer passes, so it
// also works as that function's ExistingPath:
//
//	kabiforge-devserver server start-dev --ip 127.0.0.1 --port 7233 --ui-port 8233 \
//		--db-filename kabiforge-data/temporal.db
//
// With `server start --config FILE` it runs instead the full server of a
// cluster node from the Temporal server's own configuration (PostgreSQL), and
// `sql-tool ...` is the Temporal server's schema tool (temporal-sql-tool).
//
// Once serving it prints one JSON line on stdout (see devproc.Ready); logs go
// to stderr. SIGINT or SIGTERM shuts it down cleanly.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/cmd/kabiforge-devserver/internal/devserver"
	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
)

// startTimeout bounds the wait for the server and UI to come up.
const startTimeout = 2 * time.Minute

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	switch {
	case len(args) >= 2 && args[0] == "server" && args[1] == "start":
		return runConfigured(args[2:], stdout, stderr)
	case len(args) >= 1 && args[0] == "sql-tool":
		return runSQLTool(args[1:], stderr)
	}
	o, err := devproc.ParseArgs(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kabiforge-devserver: %v\n", err)
		return 2
	}
	opts, err := serverOptions(o, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "kabiforge-devserver: %v\n", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	startCtx, cancel := context.WithTimeout(ctx, startTimeout)
	began := time.Now()
	s, err := devserver.Start(startCtx, opts)
	cancel()
	if err != nil && ctx.Err() != nil {
		// SIGINT or SIGTERM while starting: a requested stop, not a failure.
		opts.Log.WithLevel(zerolog.NoLevel).Msg("stopped while starting")
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "kabiforge-devserver: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, devproc.Ready{
		Frontend: s.Frontend(), UI: s.UIURL(), Namespace: s.Namespace(), DB: o.DBFile, PID: os.Getpid(),
	})
	opts.Log.WithLevel(zerolog.NoLevel).
		Str("frontend", s.Frontend()).Str("ui", s.UIURL()).Str("namespace", s.Namespace()).
		Str("db", persistence(o.DBFile)).Str("startup", time.Since(began).Round(time.Millisecond).String()).
		Msg("temporal dev server ready")

	<-ctx.Done()
	stop() // a second signal kills the process
	opts.Log.WithLevel(zerolog.NoLevel).Msg("shutting down")
	s.Stop()
	return 0
}

// serverOptions turns the command line into devserver options.
func serverOptions(o devproc.Options, stderr io.Writer) (devserver.Options, error) {
	ip := o.IP
	if ip == "localhost" {
		ip = "127.0.0.1" // the server needs an IP address
	}
	namespaces := []string{devproc.DefaultNamespace}
	for _, ns := range o.Namespaces {
		if !slices.Contains(namespaces, ns) {
			namespaces = append(namespaces, ns)
		}
	}
	attrs := devserver.SearchAttributes()
	for name, typ := range o.SearchAttributes {
		t, err := devserver.ParseValueType(typ)
		if err != nil {
			return devserver.Options{}, fmt.Errorf("--search-attribute %s: %w", name, err)
		}
		attrs[name] = t
	}
	uiPort := o.UIPortOrDefault()
	if o.Headless {
		uiPort = 0
	}
	return devserver.Options{
		IP:               ip,
		Port:             o.Port,
		UIPort:           uiPort,
		Namespaces:       namespaces,
		DBFile:           o.DBFile,
		SearchAttributes: attrs,
		DynamicConfig:    o.DynamicConfig,
		Log:              logger(o, stderr),
	}, nil
}

func logger(o devproc.Options, stderr io.Writer) zerolog.Logger {
	out := stderr
	if o.LogFormat == "pretty" {
		out = zerolog.ConsoleWriter{Out: stderr, TimeFormat: time.TimeOnly}
	}
	level, err := zerolog.ParseLevel(o.LogLevel)
	if err != nil {
		level = zerolog.WarnLevel
	}
	return zerolog.New(out).Level(level).With().Timestamp().Logger()
}

func persistence(db string) string {
	if db == "" {
		return "in memory"
	}
	return db
}
