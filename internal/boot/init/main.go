// Command init is the /init of the boot gate's initramfs: a static program
// (CGO_ENABLED=0) the kernel runs as PID 1. It mounts proc, sysfs and
// devtmpfs, loads the modules listed in /modules.list in order (one
// "name<TAB>path" per line), writes one wire.Line per load with the errno and
// the /dev/kmsg records of that load to the result channel, and powers off
// (restarts, without ACPI; the VM runs with -no-reboot).
//
// The result channel is /dev/ttyS1 (the VM's second serial port), or the
// device named by the kernel argument kabiforge.out=; the console (ttyS0)
// is never used for results because firmware and kernel output interleave
// with it.
package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/kabiforge/kabiforge/internal/boot/wire"
)

const (
	listPath   = "/modules.list"
	defaultOut = "/dev/ttyS1"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "kabiforge-init:", err)
	}
	unix.Sync()
	// A kernel without ACPI (a minimal one) cannot power off: it would halt
	// and hang. Restart it instead, which QEMU's -no-reboot ends the same way.
	if _, err := os.Stat("/sys/firmware/acpi"); err == nil {
		_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
	}
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_RESTART)
	select {} // PID 1 must not exit
}

func run() error {
	for _, m := range []struct{ src, dir, fs string }{
		{"proc", "/proc", "proc"}, {"sysfs", "/sys", "sysfs"}, {"devtmpfs", "/dev", "devtmpfs"},
	} {
		_ = os.MkdirAll(m.dir, 0o755)
		if err := unix.Mount(m.src, m.dir, m.fs, 0, ""); err != nil && !errors.Is(err, unix.EBUSY) {
			return fmt.Errorf("mount %s: %w", m.dir, err)
		}
	}
	out, err := openChannel(channelPath())
	if err != nil {
		return err
	}
	defer out.Close()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	if err := wire.Write(out, wire.Line{Kind: wire.KindStart, Release: unix.ByteSliceToString(uts.Release[:])}); err != nil {
		return fmt.Errorf("write result channel: %w", err)
	}
	kmsg, err := os.OpenFile("/dev/kmsg", os.O_RDONLY|unix.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("open /dev/kmsg: %w", err)
	}
	defer kmsg.Close()
	mods, err := readList(listPath)
	if err != nil {
		return err
	}
	for _, m := range mods {
		if err := wire.Write(out, load(m[0], m[1], kmsg)); err != nil {
			return fmt.Errorf("write result channel: %w", err)
		}
	}
	if err := wire.Write(out, wire.Line{Kind: wire.KindDone}); err != nil {
		return fmt.Errorf("write result channel: %w", err)
	}
	// Wait until the serial port has sent everything (tcdrain).
	_ = unix.IoctlSetInt(int(out.Fd()), unix.TCSBRK, 1)
	return nil
}

// channelPath returns the result device: kabiforge.out= from the kernel
// command line, or /dev/ttyS1.
func channelPath() string {
	b, _ := os.ReadFile("/proc/cmdline")
	for _, f := range strings.Fields(string(b)) {
		if v, ok := strings.CutPrefix(f, "kabiforge.out="); ok && v != "" {
			return v
		}
	}
	return defaultOut
}

// openChannel opens the result device and turns off output processing so
// lines arrive as written.
func openChannel(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|unix.O_NOCTTY, 0)
	if err != nil {
		return nil, fmt.Errorf("open result channel %s: %w", path, err)
	}
	if t, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS); err == nil {
		t.Oflag &^= unix.OPOST
		_ = unix.IoctlSetTermios(int(f.Fd()), unix.TCSETS, t)
	}
	return f, nil
}

// readList reads "name<TAB>path" lines.
func readList(path string) ([][2]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open module list: %w", err)
	}
	defer f.Close()
	var mods [][2]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, p, ok := strings.Cut(sc.Text(), "\t")
		if ok {
			mods = append(mods, [2]string{name, p})
		}
	}
	return mods, sc.Err()
}

// load loads one module and collects the kernel's messages about it.
func load(name, path string, kmsg *os.File) wire.Line {
	l := wire.Line{Kind: wire.KindModule, Module: name}
	// Skip what the kernel logged before this load.
	_, _ = kmsg.Seek(0, 2)
	f, err := os.Open(path)
	if err != nil {
		l.Errno, l.Error = int(unix.ENOENT), err.Error()
		return l
	}
	defer f.Close()
	if err := unix.FinitModule(int(f.Fd()), "", 0); err != nil {
		var errno unix.Errno
		if errors.As(err, &errno) {
			l.Errno = int(errno)
		} else {
			l.Errno = -1
		}
		l.Error = err.Error()
	}
	l.Kmsg = drain(kmsg)
	return l
}

// drain returns the text of every /dev/kmsg record not yet read.
func drain(kmsg *os.File) []string {
	var msgs []string
	buf := make([]byte, 8192)
	for {
		n, err := unix.Read(int(kmsg.Fd()), buf)
		if errors.Is(err, unix.EPIPE) { // records were overwritten; go on
			continue
		}
		if err != nil || n <= 0 {
			return msgs
		}
		msgs = append(msgs, wire.KmsgText(string(buf[:n])))
	}
}
