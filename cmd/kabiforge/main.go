// Command kabiforge keeps a signed dnf repository of RHEL kernels and the kmods
// built against them. It links the Temporal SDK only; the embedded server lives
// in kabiforge-devserver.
package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// exitError carries a process exit code chosen by a command (e.g. 1 for a
// kABI break, 2 for bad input) through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// app holds what every command shares: the logger and output streams.
type app struct {
	// self is the kabiforge binary builds run to sign modules; "" means
	// this executable.
	self      string
	log       zerolog.Logger
	logLevel  string
	logFormat string
	// levelSet reports whether --log-level was given; when not, a loaded
	// configuration's log_level applies.
	levelSet func() bool
	signals  signalStop
}

func main() {
	a := &app{}
	ctx, stop := a.signals.start()
	root := a.rootCommand()
	err := root.ExecuteContext(ctx)
	stop()
	if err == nil {
		return
	}
	code := 1
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
	}
	fmt.Fprintln(os.Stderr, "kabiforge:", err)
	os.Exit(code)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "kabiforge",
		Short:         "Signed dnf repositories of RHEL kernels and the kmods built against them",
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			a.signals.setGrace(cmd)
			return a.setupLogging()
		},
	}
	root.PersistentFlags().StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error (default: the configuration's log_level, else info)")
	root.PersistentFlags().StringVar(&a.logFormat, "log-format", "auto", "log format: console, json, or auto (console on a terminal, else json)")
	a.levelSet = func() bool { return root.PersistentFlags().Changed("log-level") }
	root.AddCommand(
		a.versionCommand(),
		a.repoCommand(),
		a.kabiCommand(),
		a.bootTestCommand(),
		a.configCommand(),
		a.keyCommand(),
		a.modsignCommand(),
		a.devCommand(),
		a.workerCommand(),
		a.watchCommand(),
		a.rebuildCommand(),
		a.statusCommand(),
		a.driftCommand(),
		a.approveCommand(),
		a.rejectCommand(),
		a.retryKmodCommand(),
		a.clusterCommand(),
	)
	return root
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print kabiforge's version",
		Args:  cobra.NoArgs,
		Run: func(cmd *cobra.Command, args []string) {
			fmt.Fprintln(cmd.OutOrStdout(), "kabiforge", version)
		},
	}
}

// version is set at link time by the Makefile (-X main.version=...).
var version = "dev"

func (a *app) setupLogging() error {
	lvl, err := zerolog.ParseLevel(a.logLevel)
	if err != nil {
		return &exitError{2, fmt.Errorf("--log-level %q: %w", a.logLevel, err)}
	}
	console := term.IsTerminal(int(os.Stderr.Fd()))
	switch a.logFormat {
	case "auto", "":
	case "console":
		console = true
	case "json":
		console = false
	default:
		return &exitError{2, fmt.Errorf("--log-format %q: want console, json or auto", a.logFormat)}
	}
	if console {
		a.log = zerolog.New(zerolog.ConsoleWriter{Out: os.Stderr, TimeFormat: "15:04:05"}).Level(lvl).With().Timestamp().Logger()
	} else {
		a.log = zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Logger()
	}
	return nil
}

// useConfigLevel applies a configuration's log_level when --log-level was
// not given.
func (a *app) useConfigLevel(level string) {
	if level == "" || (a.levelSet != nil && a.levelSet()) {
		return
	}
	if lvl, err := zerolog.ParseLevel(level); err == nil {
		a.log = a.log.Level(lvl)
	}
}

// badInput wraps an error as exit code 2.
func badInput(err error) error { return &exitError{2, err} }
