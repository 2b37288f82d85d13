package kabi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// maxLine bounds one line of a text input; real lines are under 200 bytes.
const maxLine = 64 << 10

// eachLine calls fn with every line of r (without its newline) and its
// 1-based number. It rejects CR line endings, NUL bytes and overlong lines.
func eachLine(r io.Reader, name string, fn func(n int, line string) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), maxLine)
	sc.Split(splitLines)
	n := 0
	for sc.Scan() {
		n++
		b := sc.Bytes()
		switch {
		case bytes.IndexByte(b, '\r') >= 0:
			return parseErr(name, n, "carriage return in line (CRLF line endings?)")
		case bytes.IndexByte(b, 0) >= 0:
			return parseErr(name, n, "NUL byte in line (binary file?)")
		case !utf8.Valid(b):
			return parseErr(name, n, "line is not valid UTF-8")
		}
		if err := fn(n, string(b)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return parseErr(name, n+1, "line longer than %d bytes", maxLine)
		}
		return fmt.Errorf("read %s: %w", name, err)
	}
	return nil
}

// splitLines is bufio.ScanLines without its dropping of a trailing CR, so
// that CRLF input is seen and rejected.
func splitLines(data []byte, atEOF bool) (advance int, token []byte, err error) {
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		return i + 1, data[:i], nil
	}
	if atEOF && len(data) > 0 {
		return len(data), data, nil
	}
	return 0, nil, nil
}
