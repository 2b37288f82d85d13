package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/kabi"
)

// kabiOptions are the flags shared by kabi diff and kabi check.
type kabiOptions struct {
	stablelist string
	json       bool
}

// kabiCommand groups the offline kABI commands: diff and check.
func (a *app) kabiCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "kabi",
		Short: "Compare kernel ABIs and check kmods against a kernel, offline",
		Long: `Compare kernel ABIs and check kmods against a kernel, offline.

Each argument may be an RPM, a directory of RPMs, or a Module.symvers /
Module.kabi_<arch> file (symvers.gz too); a kmod may also be a .ko file.
Exit status: 0 compatible (or no change), 1 a break was found, 2 bad input.`,
	}
	cmd.AddCommand(a.kabiDiffCommand(), a.kabiCheckCommand(), a.kabiFindRequiresCommand(), a.kabiFindProvidesCommand())
	return cmd
}

func (o *kabiOptions) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&o.stablelist, "stablelist", "", "kABI stablelist file (kabi_stablelist_<arch> or Module.kabi_<arch>) marking the symbols Red Hat keeps stable")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON for machines instead of text")
}

// loadStablelist reads --stablelist, if given.
func (o *kabiOptions) loadStablelist() (*kabi.Stablelist, error) {
	if o.stablelist == "" {
		return nil, nil
	}
	l, err := kabi.ReadStablelist(o.stablelist)
	if err != nil {
		return nil, badInput(fmt.Errorf("--stablelist: %w", err))
	}
	return l, nil
}

func (a *app) kabiDiffCommand() *cobra.Command {
	var o kabiOptions
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "List the kernel symbols removed, added or changed from OLD to NEW",
		Args:  kabiExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := o.loadStablelist()
			if err != nil {
				return err
			}
			var abis [2]*kabi.ABI
			for i, p := range args {
				if abis[i], err = kabi.LoadKernel(p); err != nil {
					return badInput(err)
				}
				if list != nil {
					abis[i].SetStablelist(list)
				}
				a.log.Debug().Str("path", p).Int("symbols", abis[i].Len()).Msg("read kernel ABI")
			}
			d := kabi.Diff(abis[0], abis[1])
			if err := o.print(cmd.OutOrStdout(), d, func(w io.Writer) { writeDelta(w, d) }); err != nil {
				return err
			}
			if d.Broken() {
				return &exitError{1, errors.New("kABI break: symbols removed or changed")}
			}
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

// checkReport is kabi check's JSON output.
type checkReport struct {
	Kernel     string         `json:"kernel"`
	Symbols    int            `json:"symbols"`
	Stablelist int            `json:"stablelist_symbols"`
	Compatible bool           `json:"compatible"`
	Kmods      []kabi.Verdict `json:"kmods"`
}

func (a *app) kabiCheckCommand() *cobra.Command {
	var o kabiOptions
	cmd := &cobra.Command{
		Use:   "check KERNEL KMOD...",
		Short: "Check that every symbol each kmod needs is exported by KERNEL with the same CRC",
		Args:  kabiMinArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := o.loadStablelist()
			if err != nil {
				return err
			}
			kernel, err := kabi.LoadKernel(args[0])
			if err != nil {
				return badInput(err)
			}
			if list != nil {
				kernel.SetStablelist(list)
			}
			var kmods []kabi.Kmod
			for _, p := range args[1:] {
				ks, err := kabi.LoadKmods(p)
				if err != nil {
					return badInput(err)
				}
				kmods = append(kmods, ks...)
			}
			rep := checkReport{Kernel: kernel.Name, Symbols: kernel.Len(), Compatible: true,
				Kmods: kabi.CheckAll(kernel, kmods)}
			if l := kernel.Stablelist(); l != nil {
				rep.Stablelist = l.Len()
			}
			broken := 0
			for _, v := range rep.Kmods {
				if !v.Compatible {
					broken++
					rep.Compatible = false
				}
			}
			if err := o.print(cmd.OutOrStdout(), rep, func(w io.Writer) { writeCheck(w, rep) }); err != nil {
				return err
			}
			if broken > 0 {
				return &exitError{1, fmt.Errorf("kABI break: %d of %d kmods do not fit %s", broken, len(kmods), kernel.Name)}
			}
			return nil
		},
	}
	o.register(cmd)
	return cmd
}

// print writes v as indented JSON with --json, else calls text.
func (o *kabiOptions) print(w io.Writer, v any, text func(io.Writer)) error {
	if !o.json {
		text(w)
		return nil
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func kabiExactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.ExactArgs(n)(cmd, args); err != nil {
			return badInput(err)
		}
		return nil
	}
}

func kabiMinArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if err := cobra.MinimumNArgs(n)(cmd, args); err != nil {
			return badInput(err)
		}
		return nil
	}
}
