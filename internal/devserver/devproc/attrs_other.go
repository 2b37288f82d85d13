//go:build !linux

package devproc

import "syscall"

func childAttrs() *syscall.SysProcAttr { return nil }
