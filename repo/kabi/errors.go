package kabi

import "fmt"

// ParseError is a problem at one line of a text input.
type ParseError struct {
	File string // the input's name, usually its path
	Line int    // 1-based line number
	Msg  string // what was wrong
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

func parseErr(file string, line int, format string, args ...any) error {
	return &ParseError{File: file, Line: line, Msg: fmt.Sprintf(format, args...)}
}
