package main

import (
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// progressEvery is how often repo index logs its progress on long runs.
const progressEvery = 2 * time.Second

func (a *app) repoIndexCommand() *cobra.Command {
	var (
		keyPath  string
		compress string
		update   bool
		workers  int
		pass     passphraseFlags
	)
	cmd := &cobra.Command{
		Use:   "index DIR",
		Short: "Write rpm-md metadata (repodata/) for the RPMs under DIR, signed when --sign-key is given",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := args[0]
			comp, err := repodata.ParseCompression(compress)
			if err != nil {
				return badInput(fmt.Errorf("--compress: %w", err))
			}
			if st, err := os.Stat(dir); err != nil || !st.IsDir() {
				return badInput(fmt.Errorf("%s: not a directory", dir))
			}
			opts := repodata.Options{Compression: comp, Update: update, Workers: workers}
			if keyPath != "" {
				key, err := pass.loadKey(keyPath)
				if err != nil {
					return err
				}
				opts.Signer = sign.NewSigner(key)
			}
			start, last := time.Now(), time.Now()
			opts.Progress = func(done, total int) {
				if time.Since(last) >= progressEvery {
					last = time.Now()
					a.log.Info().Int("done", done).Int("total", total).Msg("indexing")
				}
			}
			res, err := repodata.Index(cmd.Context(), dir, opts)
			if err != nil {
				return badInput(err)
			}
			signed := ""
			if opts.Signer != nil {
				signed = ", signed"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "indexed %d packages (%d reused) in %s%s\n",
				res.Packages, res.Reused, time.Since(start).Round(time.Millisecond), signed)
			return nil
		},
	}
	cmd.Flags().StringVar(&keyPath, "sign-key", "", "armored private key file: also write repodata/repomd.xml.asc")
	cmd.Flags().StringVar(&compress, "compress", "zstd", "compression of the metadata: zstd or gzip")
	cmd.Flags().BoolVar(&update, "update", false, "reuse the existing metadata for packages that did not change")
	cmd.Flags().IntVar(&workers, "workers", 0, "packages read in parallel (default: one per CPU)")
	pass.register(cmd)
	return cmd
}
