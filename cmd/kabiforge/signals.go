package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// Exit status and grace periods of a command stopped by a signal.
const (
	signalExit = 130 // as a shell reports a process ended by SIGINT
	// stopGrace is how long a command has to return after SIGINT or
	// SIGTERM cancelled its context.
	stopGrace = 500 * time.Millisecond
	// annotationGrace names a command annotation holding a longer grace
	// (a time.Duration string) for commands that shut down children in
	// order, like dev and worker.
	annotationGrace = "kabiforge/stop-grace"
)

// signalStop cancels a command's context on the first SIGINT or SIGTERM and
// ends the process when the command has not returned within its grace, or
// at once on a second signal: a command stuck in a read or a call that does
// not watch its context never outlives the user's request to stop.
type signalStop struct {
	grace atomic.Int64 // nanoseconds
}

// start returns the context for the commands and the function that stops
// listening for signals.
func (s *signalStop) start() (context.Context, func()) {
	s.grace.Store(int64(stopGrace))
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-sigs:
			cancel()
			select {
			case <-sigs:
			case <-time.After(time.Duration(s.grace.Load())):
			case <-done:
				return
			}
			fmt.Fprintf(os.Stderr, "kabiforge: stopped by %v\n", sig)
			os.Exit(signalExit)
		case <-done:
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		cancel()
	}
}

// setGrace applies cmd's annotationGrace, if it has one.
func (s *signalStop) setGrace(cmd *cobra.Command) {
	if d, err := time.ParseDuration(cmd.Annotations[annotationGrace]); err == nil && d > 0 {
		s.grace.Store(int64(d))
	}
}
