package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	sqltool "go.temporal.io/server/tools/sql"

	"github.com/kabiforge/kabiforge/cmd/kabiforge-devserver/internal/devserver"
	"github.com/kabiforge/kabiforge/internal/devserver/devproc"
)

// runConfigured runs `server start --config FILE`: the full Temporal server
// of a cluster node from the Temporal server's own configuration format
// (PostgreSQL persistence and visibility, TLS, membership), until SIGINT or
// SIGTERM. It prints the ready line once the services are started.
func runConfigured(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kabiforge-devserver server start", flag.ContinueOnError)
	fs.SetOutput(stderr)
	file := fs.String("config", "", "Temporal server configuration file (required)")
	level := fs.String("log-level", "warn", "server log level: debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *file == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "kabiforge-devserver server start: usage: server start --config FILE [--log-level L]")
		return 2
	}
	lvl, err := zerolog.ParseLevel(*level)
	if err != nil {
		fmt.Fprintf(stderr, "kabiforge-devserver server start: --log-level %q: %v\n", *level, err)
		return 2
	}
	log := zerolog.New(stderr).Level(lvl).With().Timestamp().Logger()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	began := time.Now()
	s, err := devserver.StartConfigured(*file, log)
	if err != nil {
		fmt.Fprintf(stderr, "kabiforge-devserver: %v\n", err)
		return 1
	}
	fmt.Fprintln(stdout, devproc.Ready{Frontend: s.Frontend(), PID: os.Getpid()})
	log.WithLevel(zerolog.NoLevel).Str("frontend", s.Frontend()).
		Str("startup", time.Since(began).Round(time.Millisecond).String()).Msg("temporal server started")
	<-ctx.Done()
	stop()
	log.WithLevel(zerolog.NoLevel).Msg("shutting down")
	s.Stop()
	return 0
}

// runSQLTool runs the Temporal server's own schema tool (temporal-sql-tool,
// from the pinned server module) with args, e.g.
//
//	kabiforge-devserver sql-tool --plugin postgres12 --ep 127.0.0.1 -p 5432 \
//		--db temporal setup-schema -v 0.0
//	kabiforge-devserver sql-tool ... update-schema --schema-name postgresql/v12/temporal
func runSQLTool(args []string, stderr io.Writer) int {
	if err := sqltool.RunTool(append([]string{"kabiforge-devserver sql-tool"}, args...)); err != nil {
		fmt.Fprintf(stderr, "kabiforge-devserver sql-tool: %v\n", err)
		return 1
	}
	return 0
}
