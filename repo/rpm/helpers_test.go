package rpm_test

import (
	"bytes"
	"syscall"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

func mkfifo(path string) error { return syscall.Mkfifo(path, 0o644) }
