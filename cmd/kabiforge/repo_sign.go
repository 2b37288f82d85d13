package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/sign"
)

func (a *app) repoSignCommand() *cobra.Command {
	var (
		keyPath string
		workers int
		detach  bool
		pass    passphraseFlags
	)
	cmd := &cobra.Command{
		Use:   "sign --key KEY FILE|DIR...",
		Short: "Sign RPMs in place (a directory means its *.rpm), or write detached FILE.asc signatures with --detach",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			key, err := pass.loadKey(keyPath)
			if err != nil {
				return err
			}
			signer := sign.NewSigner(key)
			start := time.Now()
			if detach {
				for _, p := range args {
					asc, err := signer.SignFile(p)
					if err != nil {
						return badInput(err)
					}
					a.log.Debug().Str("file", asc).Msg("signed")
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%d files signed (detached) with key %s in %s\n",
					len(args), key.KeyID(), time.Since(start).Round(time.Millisecond))
				return nil
			}
			paths, err := rpmPaths(args)
			if err != nil {
				return badInput(err)
			}
			lastReport := time.Now()
			err = signer.SignRPMs(cmd.Context(), paths, workers, func(done int, path string) {
				a.log.Debug().Str("file", path).Msg("signed")
				if time.Since(lastReport) >= 2*time.Second {
					lastReport = time.Now()
					a.log.Info().Int("done", done).Int("total", len(paths)).Msg("signing")
				}
			})
			if err != nil {
				return badInput(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d packages signed with key %s in %s\n",
				len(paths), key.KeyID(), time.Since(start).Round(time.Millisecond))
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "key", "", "armored private key file (required)")
	cmd.Flags().IntVar(&workers, "workers", 0, "packages signed in parallel (default: one per CPU)")
	cmd.Flags().BoolVar(&detach, "detach", false, "write an armored detached signature FILE.asc for each FILE")
	pass.register(cmd)
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// rpmPaths expands directories to the *.rpm files in them and checks that
// every file named is an .rpm.
func rpmPaths(args []string) ([]string, error) {
	var paths []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, err
		}
		if !st.IsDir() {
			if !strings.HasSuffix(arg, ".rpm") {
				return nil, fmt.Errorf("%s: not an .rpm file (use --detach for a detached signature)", arg)
			}
			paths = append(paths, arg)
			continue
		}
		found, err := filepath.Glob(filepath.Join(arg, "*.rpm"))
		if err != nil {
			return nil, err
		}
		if len(found) == 0 {
			return nil, fmt.Errorf("%s: no .rpm files in this directory", arg)
		}
		paths = append(paths, found...)
	}
	return paths, nil
}
