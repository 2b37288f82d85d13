package main

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

// kabiFindRequiresCommand is the dependency generator kmod specs set as
// %__find_requires: rpmbuild writes the built files on stdin, one a line,
// and reads the Requires back, as with RHEL's find-requires.ksyms.
func (a *app) kabiFindRequiresCommand() *cobra.Command {
	var symvers string
	cmd := &cobra.Command{
		Use:   "find-requires --symvers FILE < file-list",
		Short: "rpm dependency generator: kernel(sym)/ksym(sym) = 0xCRC Requires of the .ko files listed on stdin",
		Long: `rpm dependency generator for kmod specs (%__find_requires): reads file paths on
stdin and prints, for each kernel module among them, one Requires per __versions
entry: kernel(sym) = 0xCRC when the kernel's vmlinux exports sym (per --symvers,
the Module.symvers of the kernel-devel built against), ksym(sym) = 0xCRC for
symbols other modules export.`,
		Args: kabiExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			kernel, err := kabi.LoadKernel(symvers)
			if err != nil {
				return badInput(fmt.Errorf("--symvers: %w", err))
			}
			return generate(cmd, func(paths []string) ([]string, error) { return kabi.FindRequires(paths, kernel) })
		},
	}
	cmd.Flags().StringVar(&symvers, "symvers", "", "Module.symvers of the kernel the modules were built against (required)")
	cmd.MarkFlagRequired("symvers")
	return cmd
}

// kabiFindProvidesCommand is the dependency generator kmod specs set as
// %__find_provides: ksym(sym) = 0xCRC for each symbol the listed modules
// export.
func (a *app) kabiFindProvidesCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "find-provides < file-list",
		Short: "rpm dependency generator: ksym(sym) = 0xCRC Provides of the .ko files listed on stdin",
		Args:  kabiExactArgs(0),
		RunE: func(cmd *cobra.Command, args []string) error {
			return generate(cmd, kabi.FindProvides)
		},
	}
}

// generate reads the file list on stdin, runs gen and prints its lines.
func generate(cmd *cobra.Command, gen func([]string) ([]string, error)) error {
	paths, err := readLines(cmd.InOrStdin())
	if err != nil {
		return err
	}
	deps, err := gen(paths)
	if err != nil {
		return badInput(err)
	}
	w := bufio.NewWriter(cmd.OutOrStdout())
	for _, d := range deps {
		fmt.Fprintln(w, d)
	}
	return w.Flush()
}

func readLines(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" {
			out = append(out, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read file list: %w", err)
	}
	return out, nil
}
