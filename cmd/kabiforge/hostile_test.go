package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/store"
)

// hostile holds the inputs of the hostile-input tables: good packages from
// the shared data, the same cut short, a key, symbol tables and a FIFO.
type hostile struct {
	dir                  string
	good, good2          string // complete packages
	half, short          string // good2 cut at 50% and by one byte
	kernelHalf           string // a kernel package whose ABI is in its Provides, cut at 50%
	key, cert            string
	symvers, emptySymver string
	emptyKo, fifo        string
}

// newHostile makes the inputs; the kernel package (an rpmbuild) only when
// withKernel.
func newHostile(t *testing.T, withKernel bool) *hostile {
	t.Helper()
	d := t.TempDir()
	h := &hostile{dir: d}
	shared := testutil.SharedData(t, "rpm")
	h.good = filepath.Join(d, "zero-epoch-0.1-1.x86_64.rpm")
	copyFile(t, filepath.Join(shared, "go-rpmutils", "zero-epoch-0.1-1.x86_64.rpm"), h.good)
	h.good2 = filepath.Join(d, "centos-release-7-2.1511.el7.centos.2.10.x86_64.rpm")
	copyFile(t, filepath.Join(shared, "centos-signed", filepath.Base(h.good2)), h.good2)
	whole, err := os.ReadFile(h.good2)
	if err != nil {
		t.Fatal(err)
	}
	h.half = writeTo(t, d, "half-1-1.x86_64.rpm", whole[:len(whole)/2])
	h.short = writeTo(t, d, "short-1-1.x86_64.rpm", whole[:len(whole)-1])
	if withKernel {
		kernel := testutil.RPMBuild(t, kernelSpec)[0]
		kb, err := os.ReadFile(kernel)
		if err != nil {
			t.Fatal(err)
		}
		h.kernelHalf = writeTo(t, d, "kernel-core-6.1.0-1.x86_64.rpm", kb[:len(kb)/2])
	}
	keys := filepath.Join(d, "keys")
	kabiforge(t, "key", "generate", "--name", "hostile", "--email", "h@kabiforge.invalid", "--out", keys,
		"--algorithm", "ed25519", "--module-key-bits", "2048")
	h.key = filepath.Join(keys, "hostile.private.asc")
	h.cert = filepath.Join(keys, "SECURE-BOOT-KEY-hostile.der")
	h.symvers = writeTo(t, d, "Module.symvers", []byte("0x12345678\tprintk\tvmlinux\tEXPORT_SYMBOL\t\n"))
	h.emptySymver = writeTo(t, d, "empty.symvers", nil)
	h.emptyKo = writeTo(t, d, "empty.ko", nil)
	h.fifo = filepath.Join(d, "fifo")
	if err := syscall.Mkfifo(h.fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	return h
}

// kernelSpec is a kernel-core whose ABI is in its Provides, as RHEL's is.
const kernelSpec = `Name: kernel-core
Version: 6.1.0
Release: 1
Summary: hostile-input kernel
License: GPL-2.0-only
BuildArch: x86_64
Provides: kernel(printk) = 0x12345678
Provides: kernel(kmalloc) = 0x0badcafe
%description
A kernel ABI in Provides.
%install
mkdir -p %{buildroot}/boot
head -c 65536 /dev/urandom > %{buildroot}/boot/vmlinuz-6.1.0
%files
/boot/vmlinuz-6.1.0
`

func writeTo(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// folderOf copies paths into a new folder and returns it.
func folderOf(t *testing.T, paths ...string) string {
	t.Helper()
	dir := t.TempDir()
	for _, p := range paths {
		copyFile(t, p, filepath.Join(dir, filepath.Base(p)))
	}
	return dir
}

// snapshot is every file under path with its content's digest, or
// "missing": equal snapshots mean nothing was written, added or removed.
func snapshot(t *testing.T, path string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) && p == path {
			b.WriteString("missing")
			return nil
		}
		if err != nil {
			return err
		}
		if d.Type().IsRegular() {
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			fmt.Fprintf(&b, "%s %x\n", p, sha256.Sum256(data))
		} else {
			fmt.Fprintf(&b, "%s %v\n", p, d.Type())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// runBinary runs the kabiforge binary with args and returns its combined
// output and exit code; it fails the test when the run takes a minute.
func runBinary(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, kabiforgeBin, args...)
	cmd.Env = append(os.Environ(), "KABIFORGE_CONFIG=")
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("kabiforge %s: still running after a minute", strings.Join(args, " "))
	}
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState.ExitCode()
}

// hostileCase is one command on one hostile (or, as a regression, plain
// bad) input: its exit code, what the error must say (the input's name and
// what is wrong with it), and the files that must be byte-identical
// afterwards.
type hostileCase struct {
	name      string
	args      []string
	code      int
	says      []string
	unchanged []string
}

// TestHostileInputs runs every command on the hostile inputs of issue 11
// and on the bad inputs that were already refused: no panic, the exit
// code, an error naming the input and what is wrong, and nothing changed
// where nothing should.
func TestHostileInputs(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	h := newHostile(t, true)
	mergeKey := writeTo(t, h.dir, "merge.yaml", []byte("x: &b {name: a}\nsources: [{<<, *b}]\n"))
	badYAML := writeTo(t, h.dir, "bad.yaml", []byte("temporal: [\n"))
	unknown := writeTo(t, h.dir, "unknown.yaml", []byte("no_such_setting: 1\n"))
	badSymvers := writeTo(t, h.dir, "bad.symvers", []byte("garbage line\n"))
	notRPM := writeTo(t, h.dir, "notes-1-1.x86_64.rpm", []byte("not a package\n"))
	pubRepo := t.TempDir()
	kabiforge(t, "repo", "publish", "--no-sign", "--key", h.key, "--to", "dir://"+pubRepo, h.good)
	mixed := folderOf(t, h.good, h.good2, h.half)
	indexed := folderOf(t, h.good, h.half)
	shortIndexed := folderOf(t, h.good, h.short)
	emptyRepo := filepath.Join(t.TempDir(), "repo")
	missing := filepath.Join(h.dir, "missing.symvers")
	cfg := writeTo(t, h.dir, "kabiforge.yaml", []byte("temporal:\n  address: 127.0.0.1:1\n"))
	cases := []hostileCase{
		// Found in issue 11.
		{"config check: YAML merge key", []string{"config", "check", "--config", mergeKey}, 2, []string{mergeKey, "keys are plain names"}, nil},
		{"status: YAML merge key", []string{"status", "--config", mergeKey}, 2, []string{mergeKey, "keys are plain names"}, nil},
		{"repo publish --no-sign: truncated package", []string{"repo", "publish", "--no-sign", "--key", h.key, "--to", "dir://" + pubRepo, h.half, h.good2}, 2, []string{h.half, "truncated"}, []string{pubRepo}},
		{"repo publish: truncated package, new repository", []string{"repo", "publish", "--key", h.key, "--to", "dir://" + emptyRepo, h.good2, h.half}, 2, []string{h.half, "truncated"}, []string{emptyRepo, h.good2}},
		{"repo publish: one byte short", []string{"repo", "publish", "--key", h.key, "--to", "dir://" + pubRepo, h.short}, 2, []string{h.short, "truncated"}, []string{pubRepo}},
		{"kabi diff: empty symbol table", []string{"kabi", "diff", h.emptySymver, h.symvers}, 2, []string{h.emptySymver, "no symbols"}, nil},
		{"kabi check: zero-byte .ko", []string{"kabi", "check", h.symvers, h.emptyKo}, 2, []string{h.emptyKo, "no symbols"}, nil},
		{"kabi diff: named pipe", []string{"kabi", "diff", h.fifo, h.symvers}, 2, []string{h.fifo, "named pipe"}, nil},
		{"kabi check: named pipe kmod", []string{"kabi", "check", h.symvers, h.fifo}, 2, []string{h.fifo, "named pipe"}, nil},
		{"config check: named pipe", []string{"config", "check", "--config", h.fifo}, 2, []string{h.fifo, "named pipe"}, nil},
		{"repo index: truncated at 50%", []string{"repo", "index", indexed}, 2, []string{filepath.Join(indexed, filepath.Base(h.half)), "truncated"}, []string{indexed}},
		{"repo index: one byte short", []string{"repo", "index", shortIndexed}, 2, []string{filepath.Join(shortIndexed, filepath.Base(h.short)), "truncated"}, []string{shortIndexed}},
		{"kabi diff: kernel package cut at 50%", []string{"kabi", "diff", h.kernelHalf, h.symvers}, 2, []string{h.kernelHalf, "truncated"}, nil},
		{"repo sign: two good, one truncated", []string{"repo", "sign", "--key", h.key, mixed}, 2, []string{filepath.Join(mixed, filepath.Base(h.half)), "truncated"}, []string{mixed}},
		{"rebuild: URL under no source, no server", []string{"rebuild", "--config", cfg, "https://example.com/x/kernel-5.14.0-1.el9.src.rpm"}, 2, []string{"https://example.com/x/kernel-5.14.0-1.el9.src.rpm", "lies under no configured source"}, nil},
		// Already refused before issue 11: kept as regressions.
		{"config check: YAML syntax", []string{"config", "check", "--config", badYAML}, 2, []string{badYAML}, nil},
		{"config check: unknown setting", []string{"config", "check", "--config", unknown}, 2, []string{unknown, "no_such_setting"}, nil},
		{"config check: missing file", []string{"config", "check", "--config", missing}, 2, []string{missing}, nil},
		{"kabi diff: missing file", []string{"kabi", "diff", missing, h.symvers}, 2, []string{missing}, nil},
		{"kabi diff: bad row", []string{"kabi", "diff", badSymvers, h.symvers}, 2, []string{badSymvers + ":1", "columns"}, nil},
		{"kabi check: bad kernel row", []string{"kabi", "check", badSymvers, h.symvers}, 2, []string{badSymvers + ":1"}, nil},
		{"kabi diff: one argument", []string{"kabi", "diff", h.symvers}, 2, []string{"2 arg"}, nil},
		{"repo index: missing folder", []string{"repo", "index", missing}, 2, []string{missing}, nil},
		{"repo index: not a package", []string{"repo", "index", folderOf(t, h.good, notRPM)}, 2, []string{filepath.Base(notRPM)}, nil},
		{"repo sign: not a package", []string{"repo", "sign", "--key", h.key, notRPM}, 2, []string{notRPM}, []string{notRPM}},
		{"repo sign: missing key", []string{"repo", "sign", "--key", missing, h.good}, 2, []string{missing}, []string{h.good}},
		{"repo publish: not a package", []string{"repo", "publish", "--key", h.key, "--to", "dir://" + pubRepo, notRPM}, 2, []string{notRPM}, []string{pubRepo}},
		{"repo publish: nothing to publish", []string{"repo", "publish", "--key", h.key, "--to", "dir://" + pubRepo}, 2, []string{"nothing to publish"}, []string{pubRepo}},
		{"repo publish: unknown store scheme", []string{"repo", "publish", "--key", h.key, "--to", "ftp://x/y", h.good}, 2, []string{"ftp", "unknown scheme"}, nil},
		{"repo publish: bad NEVRA to remove", []string{"repo", "publish", "--key", h.key, "--to", "dir://" + pubRepo, "--remove", "nonsense"}, 2, []string{"nonsense"}, []string{pubRepo}},
		{"repo serve: missing folder", []string{"repo", "serve", "--listen", "127.0.0.1:0", missing}, 2, []string{missing}, nil},
		{"rebuild: not an NVR", []string{"rebuild", "--config", cfg, "not-a-kernel"}, 2, []string{"not-a-kernel"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := make([]string, len(c.unchanged))
			for i, p := range c.unchanged {
				before[i] = snapshot(t, p)
			}
			out, code := runBinary(t, c.args...)
			if code != c.code {
				t.Errorf("exit %d, want %d\n%s", code, c.code, out)
			}
			if strings.Contains(out, "panic") || strings.Contains(out, "goroutine ") {
				t.Errorf("panicked:\n%s", out)
			}
			for _, s := range c.says {
				if !strings.Contains(out, s) {
					t.Errorf("output does not say %q:\n%s", s, out)
				}
			}
			for i, p := range c.unchanged {
				if after := snapshot(t, p); after != before[i] {
					t.Errorf("%s changed:\nbefore:\n%s\nafter:\n%s", p, before[i], after)
				}
			}
		})
	}
}

// TestCommandsStopOnSignalsWhileReadingAFIFO gives every command that reads
// input a named pipe with no writer where its input goes: it either refuses
// the pipe at once (exit 2, naming it) or, still waiting, stops within a
// second of SIGINT or SIGTERM.
func TestCommandsStopOnSignalsWhileReadingAFIFO(t *testing.T) {
	h := newHostile(t, false)
	fifoRPM := filepath.Join(h.dir, "fifo-1-1.x86_64.rpm")
	fifoKo := filepath.Join(h.dir, "fifo.ko")
	for _, p := range []string{fifoRPM, fifoKo} {
		if err := syscall.Mkfifo(p, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	fifoDir := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(fifoDir, "a-1-1.x86_64.rpm"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		args  []string
		stdin bool // the FIFO is standard input
		// skips: the command passes over a FIFO among its inputs (repo
		// index indexes only regular files) and ends at once, exit 0.
		skips bool
	}{
		{"kabi diff OLD", []string{"kabi", "diff", h.fifo, h.symvers}, false, false},
		{"kabi diff NEW", []string{"kabi", "diff", h.symvers, h.fifo}, false, false},
		{"kabi check KERNEL", []string{"kabi", "check", h.fifo, h.symvers}, false, false},
		{"kabi check KMOD", []string{"kabi", "check", h.symvers, fifoKo}, false, false},
		{"kabi find-requires --symvers", []string{"kabi", "find-requires", "--symvers", h.fifo}, false, false},
		{"kabi find-requires stdin", []string{"kabi", "find-requires", "--symvers", h.symvers}, true, false},
		{"kabi find-provides stdin", []string{"kabi", "find-provides"}, true, false},
		{"config check", []string{"config", "check", "--config", h.fifo}, false, false},
		{"status --config", []string{"status", "--config", h.fifo}, false, false},
		{"rebuild --config", []string{"rebuild", "--config", h.fifo, "5.14.0-1.el9"}, false, false},
		{"repo index", []string{"repo", "index", fifoDir}, false, true},
		{"repo sign RPM", []string{"repo", "sign", "--key", h.key, fifoRPM}, false, false},
		{"repo sign --key", []string{"repo", "sign", "--key", h.fifo, h.good}, false, false},
		{"repo sign --passphrase-file", []string{"repo", "sign", "--key", h.key, "--passphrase-file", h.fifo, h.good}, false, false},
		{"repo sign --detach", []string{"repo", "sign", "--key", h.key, "--detach", h.fifo}, false, false},
		{"repo publish RPM", []string{"repo", "publish", "--key", h.key, "--to", t.TempDir(), fifoRPM}, false, false},
		{"repo publish folder", []string{"repo", "publish", "--key", h.key, "--to", t.TempDir(), fifoDir}, false, false},
		{"key generate --passphrase-file", []string{"key", "generate", "--name", "x", "--out", t.TempDir(), "--passphrase-file", h.fifo}, false, false},
		{"modsign verify MODULE", []string{"modsign", "verify", "--cert", h.cert, fifoKo}, false, false},
		{"modsign verify --cert", []string{"modsign", "verify", "--cert", h.fifo, h.good}, false, false},
		{"boot-test", []string{"boot-test", fifoRPM, "--", fifoRPM}, false, false},
	}
	for i, c := range cases {
		sig := []syscall.Signal{syscall.SIGTERM, syscall.SIGINT}[i%2]
		t.Run(c.name+" "+sig.String(), func(t *testing.T) {
			cmd := exec.Command(kabiforgeBin, c.args...)
			cmd.Env = append(os.Environ(), "KABIFORGE_CONFIG=")
			var out bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &out
			if c.stdin {
				// Opened read-write so that opening does not block here;
				// the command reads it and finds nothing, for ever.
				f, err := os.OpenFile(h.fifo, os.O_RDWR, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				cmd.Stdin = f
			}
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			done := make(chan struct{})
			go func() { cmd.Wait(); close(done) }()
			select {
			case <-done:
				if c.skips {
					if code := cmd.ProcessState.ExitCode(); code != 0 {
						t.Errorf("exit %d, want 0 with the FIFO passed over:\n%s", code, out.String())
					}
					return
				}
				// Refused at once: exit 2 and a message naming a FIFO.
				if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(out.String(), "named pipe") {
					t.Errorf("ended before the signal with exit %d, want 2 and a named pipe refused:\n%s", code, out.String())
				}
				return
			case <-time.After(500 * time.Millisecond):
			}
			sent := time.Now()
			cmd.Process.Signal(sig)
			select {
			case <-done:
				if d := time.Since(sent); d > time.Second {
					t.Errorf("stopped %v after %v, more than a second", d, sig)
				}
				if code := cmd.ProcessState.ExitCode(); code == 0 {
					t.Errorf("exit 0 after %v", sig)
				}
			case <-time.After(5 * time.Second):
				cmd.Process.Kill()
				<-done
				t.Errorf("still running 5 s after %v:\n%s", sig, out.String())
			}
		})
	}
}

// TestRepoPublishRefusesAnS3EndpointIgnoringConditionalWrites publishes to
// a real versitygw behind a proxy that strips If-Match and If-None-Match:
// repo publish fails with an error naming the endpoint and the header, and
// the bucket holds afterwards exactly what it held before (nothing).
func TestRepoPublishRefusesAnS3EndpointIgnoringConditionalWrites(t *testing.T) {
	h := newHostile(t, false)
	endpoint, ak, sk, bucket := testutil.StartVersityGW(t)
	proxy := testutil.IgnoringConditionalWrites(t, endpoint, ak, sk)
	t.Setenv("AWS_ACCESS_KEY_ID", ak)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sk)
	to := "s3://" + bucket + "/repo?endpoint=" + proxy + "&region=us-east-1&path-style=true"
	out, code := runBinary(t, "repo", "publish", "--key", h.key, "--to", to, h.good)
	if code == 0 || !strings.Contains(out, proxy) || !strings.Contains(out, "If-None-Match") {
		t.Errorf("repo publish through a server ignoring conditional writes: exit %d:\n%s", code, out)
	}
	s, err := store.Open(t.Context(), "s3://"+bucket+"?endpoint="+endpoint+"&region=us-east-1&path-style=true")
	if err != nil {
		t.Fatal(err)
	}
	for info, err := range s.List(t.Context(), "") {
		t.Errorf("the bucket holds %s (%v) after a refused publish", info.Key, err)
	}
}
