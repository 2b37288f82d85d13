// Package wire is the line format the boot gate's /init writes to its result
// channel (the VM's second serial port) and the host reads back.
//
// Every line is one JSON object. The init writes a "start" line with the
// kernel release, one "module" line per load attempt in load order, and a
// final "done" line just before it powers the machine off; a channel without
// "done" means the VM did not finish. Lines that are not JSON objects (a
// serial port may carry noise) are skipped by Parse.
package wire

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// Kinds of Line.
const (
	KindStart  = "start"
	KindModule = "module"
	KindDone   = "done"
)

// Line is one record on the result channel.
type Line struct {
	// Kind is KindStart, KindModule or KindDone.
	Kind string `json:"kind"`
	// Release is the running kernel's uname release (KindStart).
	Release string `json:"release,omitempty"`
	// Module is the module's name (KindModule).
	Module string `json:"module,omitempty"`
	// Errno is finit_module's errno, 0 when the module loaded (KindModule).
	Errno int `json:"errno"`
	// Error is the errno's text, or an error opening the file (KindModule).
	Error string `json:"error,omitempty"`
	// Kmsg holds the /dev/kmsg records the kernel logged during the load,
	// message text only (KindModule).
	Kmsg []string `json:"kmsg,omitempty"`
}

// Write encodes l as one line on w.
func Write(w io.Writer, l Line) error {
	b, err := json.Marshal(l)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// Parse reads the lines of a result channel. It skips anything that is not
// a JSON object with a known kind, and reports whether the "done" line was
// seen. It fails only when reading r fails.
func Parse(r io.Reader) (lines []Line, done bool, err error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		b := bytes.TrimSpace(sc.Bytes())
		// A serial line may carry bytes before the object (line noise).
		if i := bytes.IndexByte(b, '{'); i > 0 {
			b = b[i:]
		}
		var l Line
		if len(b) == 0 || b[0] != '{' || json.Unmarshal(b, &l) != nil {
			continue
		}
		switch l.Kind {
		case KindDone:
			done = true
		case KindStart, KindModule:
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return lines, done, fmt.Errorf("read result channel: %w", err)
	}
	return lines, done, nil
}

// KmsgText returns the message text of one /dev/kmsg record
// ("prio,seq,usec,flags;text" followed by optional " KEY=value" lines),
// or the record unchanged when it has no ';' header.
func KmsgText(rec string) string {
	if _, text, ok := strings.Cut(rec, ";"); ok {
		rec = text
	}
	rec, _, _ = strings.Cut(rec, "\n")
	return rec
}
