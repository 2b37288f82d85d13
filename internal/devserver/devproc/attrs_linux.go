package devproc

import "syscall"

// childAttrs makes the kernel send the dev server SIGTERM when the process
// that started it dies, so a crashed `kabiforge dev` leaves no server behind.
func childAttrs() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
}
