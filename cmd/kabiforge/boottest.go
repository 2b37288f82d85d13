package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/internal/boot"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// bootTestOptions are boot-test's flags.
type bootTestOptions struct {
	qemu      string
	memory    int
	timeLimit time.Duration
	accel     string
	args      []string
	keep      string
	json      bool
}

// bootTestReport is boot-test's --json output.
type bootTestReport struct {
	Kernel  string            `json:"kernel"`
	Booted  bool              `json:"booted"`
	Failure string            `json:"failure,omitempty"`
	Accel   string            `json:"accel"`
	Elapsed string            `json:"elapsed"`
	Kmods   []boot.KmodResult `json:"kmods"`
}

func (a *app) bootTestCommand() *cobra.Command {
	var o bootTestOptions
	cmd := &cobra.Command{
		Use:   "boot-test KERNEL-RPMS... -- KMOD-RPMS...",
		Short: "Boot a kernel in a VM and load kmods on it, reporting the kernel's own words",
		Long: `Boot a kernel's packages (kernel-core, kernel-modules) under QEMU with an
initramfs holding the project's own init, load each kmod's modules after their
dependencies, and report per kmod whether the kernel loaded it, with the errno
and the kernel's messages. Each kmod RPM is one kmod, named by its package.
Exit status: 0 every kmod loaded, 1 the kernel refused some, 2 bad input or the
kernel did not boot.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash < 1 || dash == len(args) {
				return badInput(errors.New("give the kernel's RPMs, then --, then the kmod RPMs"))
			}
			return o.run(cmd, args[:dash], args[dash:])
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.qemu, "qemu", "qemu-system-x86_64", "QEMU binary")
	f.IntVar(&o.memory, "memory", 512, "VM memory in MiB")
	f.DurationVar(&o.timeLimit, "time-limit", time.Minute, "hard time limit of the boot; QEMU is killed after it")
	f.StringVar(&o.accel, "accel", boot.AccelTCG, "accelerator: tcg, or auto (KVM when a probe boots with it)")
	f.StringArrayVar(&o.args, "kernel-arg", nil, "extra kernel argument (repeatable), e.g. module.sig_enforce=1")
	f.StringVar(&o.keep, "keep", "", "keep the initramfs and console log in this directory")
	f.BoolVar(&o.json, "json", false, "print JSON for machines instead of text")
	return cmd
}

func (o *bootTestOptions) run(cmd *cobra.Command, kernel, kmodRPMs []string) error {
	ctx := cmd.Context()
	kmods := map[string][]string{}
	for _, p := range kmodRPMs {
		pkg, err := rpm.Open(p)
		if err != nil {
			return badInput(fmt.Errorf("kmod package %s: %w", p, err))
		}
		kmods[pkg.NEVRA.Name] = append(kmods[pkg.NEVRA.Name], p)
	}
	dir, err := os.MkdirTemp("", "kabiforge-boot-test-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	prep, err := boot.Prepare(kernel, kmods, dir)
	if err != nil {
		return badInput(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	initBin, err := boot.BuildInit(ctx, filepath.Join(cache, "kabiforge", "boot"), "")
	if err != nil {
		return badInput(err)
	}
	prep.Request.Args, prep.Request.Dir = o.args, o.keep
	cfg := boot.Config{QEMU: o.qemu, MemoryMiB: o.memory, Timeout: o.timeLimit, Accel: o.accel, Init: initBin}
	res, err := boot.Run(ctx, cfg, prep.Request)
	if errors.Is(err, boot.ErrInput) {
		return badInput(err)
	}
	if err != nil {
		return err
	}
	rep := bootTestReport{Kernel: prep.Release, Booted: res.Booted, Failure: res.Failure, Accel: res.Accel,
		Elapsed: res.Elapsed.Round(time.Millisecond).String(), Kmods: prep.KmodResults(res)}
	if err := o.print(cmd.OutOrStdout(), rep); err != nil {
		return err
	}
	if !res.Booted {
		return &exitError{2, fmt.Errorf("kernel %s did not boot: %s", prep.Release, res.Failure)}
	}
	var refused []string
	for _, k := range rep.Kmods {
		if !k.Loaded {
			refused = append(refused, k.Name)
		}
	}
	if len(refused) > 0 {
		return &exitError{1, fmt.Errorf("kernel %s refused %s", prep.Release, strings.Join(refused, ", "))}
	}
	return nil
}

func (o *bootTestOptions) print(w io.Writer, rep bootTestReport) error {
	if o.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(w, "kernel %s: ", rep.Kernel)
	if !rep.Booted {
		fmt.Fprintf(w, "DID NOT BOOT: %s\n", rep.Failure)
	} else {
		fmt.Fprintf(w, "booted in %s (%s)\n", rep.Elapsed, rep.Accel)
	}
	for _, k := range rep.Kmods {
		if k.Loaded {
			fmt.Fprintf(w, "  %s: loads\n", k.Name)
		} else {
			fmt.Fprintf(w, "  %s: REFUSED: %s\n", k.Name, k.Reason)
		}
	}
	return nil
}
