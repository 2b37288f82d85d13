package kabi

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/kabiforge/kabiforge/internal/infile"
)

// maxLine bounds one line of a text input; real lines are under 200 bytes.
const maxLine = 64 << 10

// maxText bounds a whole text input; a full Module.symvers is about 2 MB.
const maxText = 256 << 20

// readText reads all of r, refusing inputs over maxText. name is used in errors.
func readText(r io.Reader, name string) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxText+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	if len(data) > maxText {
		return nil, fmt.Errorf("%s: larger than %d bytes", name, maxText)
	}
	return data, nil
}

// readTextFile reads the file at path like readText, decompressed when it
// is gzip, xz or zstd.
func readTextFile(path string) ([]byte, error) {
	f, err := infile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r, err := decompress(f, path)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return readText(r, path)
}

// eachLine calls fn with every line of r (without its newline) and its
// 1-based number. It rejects CR line endings, NUL bytes, invalid UTF-8 and
// overlong lines.
func eachLine(r io.Reader, name string, fn func(n int, line string) error) error {
	data, err := readText(r, name)
	if err != nil {
		return err
	}
	return eachLineOf(data, name, fn)
}

// eachLineOf is eachLine over data already in memory.
func eachLineOf(data []byte, name string, fn func(n int, line string) error) error {
	for n := 1; len(data) > 0; n++ {
		b := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			b, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		switch {
		case len(b) > maxLine:
			return parseErr(name, n, "line longer than %d bytes", maxLine)
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
	return nil
}
