package devserver

import (
	"fmt"
	"sync/atomic"

	"github.com/rs/zerolog"
	"go.temporal.io/server/common/log"
	"go.temporal.io/server/common/log/tag"
)

// serverLogger adapts zerolog to the Temporal server's logger. The server's
// Fatal and Panic become error logs: the dev server decides itself when to
// exit. quiet, when set, drops everything below error (the server warns a
// lot while it shuts down).
type serverLogger struct {
	z     zerolog.Logger
	quiet *atomic.Bool
}

var _ log.Logger = serverLogger{}

func (l serverLogger) Debug(msg string, tags ...tag.Tag)  { l.log(zerolog.DebugLevel, msg, tags) }
func (l serverLogger) Info(msg string, tags ...tag.Tag)   { l.log(zerolog.InfoLevel, msg, tags) }
func (l serverLogger) Warn(msg string, tags ...tag.Tag)   { l.log(zerolog.WarnLevel, msg, tags) }
func (l serverLogger) Error(msg string, tags ...tag.Tag)  { l.log(zerolog.ErrorLevel, msg, tags) }
func (l serverLogger) DPanic(msg string, tags ...tag.Tag) { l.log(zerolog.ErrorLevel, msg, tags) }
func (l serverLogger) Panic(msg string, tags ...tag.Tag)  { l.log(zerolog.ErrorLevel, msg, tags) }
func (l serverLogger) Fatal(msg string, tags ...tag.Tag)  { l.log(zerolog.ErrorLevel, msg, tags) }

// With returns a logger that adds tags to every entry.
func (l serverLogger) With(tags ...tag.Tag) log.Logger {
	c := l.z.With()
	for _, t := range tags {
		switch v := t.Value().(type) {
		case error:
			c = c.AnErr(t.Key(), v)
		case fmt.Stringer:
			c = c.Stringer(t.Key(), v)
		default:
			c = c.Interface(t.Key(), v)
		}
	}
	return serverLogger{z: c.Logger(), quiet: l.quiet}
}

func (l serverLogger) log(level zerolog.Level, msg string, tags []tag.Tag) {
	if level < zerolog.ErrorLevel && l.quiet != nil && l.quiet.Load() {
		return
	}
	e := l.z.WithLevel(level)
	if e == nil { // level disabled
		return
	}
	for _, t := range tags {
		switch v := t.Value().(type) {
		case error:
			e = e.AnErr(t.Key(), v)
		case fmt.Stringer:
			e = e.Stringer(t.Key(), v)
		default:
			e = e.Interface(t.Key(), v)
		}
	}
	e.Msg(msg)
}
