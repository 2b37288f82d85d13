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

// checkOptions are kabi check's own flags.
type checkOptions struct {
	policy  string
	modules string
}

// load reads --modules into kernel and returns the --policy, if given.
func (c *checkOptions) load(kernel *kabi.ABI) (*kabi.Policy, error) {
	if c.modules != "" {
		if err := kernel.ReadModulesDir(c.modules); err != nil {
			return nil, badInput(fmt.Errorf("--modules: %w", err))
		}
	}
	if c.policy == "" {
		return nil, nil
	}
	p, err := kabi.ReadPolicyFile(c.policy)
	if err != nil {
		return nil, badInput(fmt.Errorf("--policy: %w", err))
	}
	return p, nil
}

func (a *app) kabiCheckCommand() *cobra.Command {
	var o kabiOptions
	var c checkOptions
	cmd := &cobra.Command{
		Use:   "check KERNEL KMOD...",
		Short: "Check that each kmod loads on KERNEL: CRCs, export types, namespaces, vermagic, depends",
		Long: `Check that each kmod loads on KERNEL: every symbol it needs is exported
with the same CRC, and for the .ko files it ships, GPL-only exports are used
only by GPL-compatible modules, namespaced exports only by modules importing
the namespace, the vermagic flags are the kernel's and depends= modules exist.
Vermagic and depends are checked when the kernel's modules are known (a
kernel RPM shipping them, or --modules /lib/modules/<release>).

--policy FILE decides per break (YAML: rules of symbol, module, namespace,
kmod globs and kinds crc, removed, gpl-only, namespace, vermagic, depends,
with action hold-gate, fail-kmod or ignore; the first matching rule wins,
other breaks take the policy's default, fail-kmod unless set). Exit
status: 0 every kmod fits (ignored breaks aside), 1 a break, 2 bad input.`,
		Args: kabiMinArgs(2),
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
			policy, err := c.load(kernel)
			if err != nil {
				return err
			}
			rep := checkReport{Kernel: kernel.Name, Symbols: kernel.Len(), Compatible: true,
				Kmods: kabi.CheckAll(kernel, kmods, policy)}
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
	cmd.Flags().StringVar(&c.policy, "policy", "", "kABI policy file (YAML rules deciding which breaks hold, fail or are ignored)")
	cmd.Flags().StringVar(&c.modules, "modules", "", "the kernel's /lib/modules/<release> folder: its module list and vermagic")
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
