package main

import (
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/config"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/store"
)

func (a *app) repoPublishCommand() *cobra.Command {
	var (
		to, keyPath, name, baseURL string
		moduleCert                 string
		remove                     []string
		keepKernels                int
		window                     time.Duration
		noSign, noRelease          bool
		pass                       passphraseFlags
	)
	cmd := &cobra.Command{
		Use:   "publish --to URL --key KEY [--remove NEVRA]... [RPM|DIR]...",
		Short: "Add and remove packages in a signed repository atomically (dir:// or s3://)",
		Long: `Publish applies a change set to the repository at --to: the packages named
(a directory means its *.rpm) are signed with --key and uploaded, the NEVRAs
given with --remove are dropped, retention keeps the newest --keep-kernels
kernels per architecture with the kmods they still satisfy, and the new
metadata is committed with repomd.xml.asc before repomd.xml, each guarded by a
compare-and-swap, so dnf clients never see a half-written repository.
Replaced metadata and packages are deleted once --window has passed.
RPM-GPG-KEY-<name>, <name>.repo and a <name>-release package are published
alongside; with --module-cert also SECURE-BOOT-KEY-<name>.der, installed by
<name>-release under /etc/pki/<name>/ for mokutil --import.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 && len(remove) == 0 {
				return badInput(errors.New("nothing to publish: name RPMs to add or --remove NEVRAs"))
			}
			var paths []string
			if len(args) > 0 {
				var err error
				if paths, err = rpmPaths(args); err != nil {
					return badInput(err)
				}
			}
			// Bad input is reported before the store is opened (a dir
			// store's folder is created) or anything is signed.
			if err := rpm.CheckFiles(cmd.Context(), paths); err != nil {
				return badInput(err)
			}
			for _, r := range remove {
				if _, err := rpm.ParseNEVRA(r); err != nil {
					return badInput(fmt.Errorf("--remove: %w", err))
				}
			}
			key, err := pass.loadKey(keyPath)
			if err != nil {
				return err
			}
			var certDER []byte
			if moduleCert != "" {
				c, err := modsign.LoadCertificate(moduleCert)
				if err != nil {
					return badInput(err)
				}
				certDER = c.Raw
			}
			s, err := store.Open(cmd.Context(), to)
			if err != nil {
				return badInput(err)
			}
			if baseURL == "" {
				baseURL = defaultBaseURL(to)
			}
			p, err := publish.New(s, publish.Config{
				Name: name, BaseURL: baseURL, Signer: sign.NewSigner(key),
				SignPackages: !noSign, ReleasePackage: !noRelease && baseURL != "", ModuleCert: certDER,
				Retention: publish.Retention{Kernels: keepKernels}, Window: window,
				Logf: func(format string, args ...any) { a.log.Info().Msgf(format, args...) },
			})
			if err != nil {
				return badInput(err)
			}
			start := time.Now()
			res, err := p.Publish(cmd.Context(), publish.ChangeSet{Add: paths, Remove: remove})
			if corrupt := (*rpm.CorruptError)(nil); errors.As(err, &corrupt) {
				return badInput(err)
			}
			if err != nil {
				return err
			}
			for _, d := range res.Dropped {
				a.log.Info().Str("package", d).Msg("dropped")
			}
			out := cmd.OutOrStdout()
			if !res.Committed {
				fmt.Fprintf(out, "nothing changed: revision %s, %d packages\n", res.Revision, res.Packages)
			} else {
				fmt.Fprintf(out, "published revision %s: %d packages (%d uploaded, %d already present, %d dropped) in %s\n",
					res.Revision, res.Packages, res.Uploaded, res.Skipped, len(res.Dropped), time.Since(start).Round(time.Millisecond))
			}
			if res.Deleted > 0 {
				fmt.Fprintf(out, "deleted %d files older than the %s window\n", res.Deleted, window)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&moduleCert, "module-cert", "", "the module-signing certificate (DER or PEM) to publish as SECURE-BOOT-KEY-<name>.der")
	f.StringVar(&to, "to", "", "repository store URL: dir:///srv/repo, /srv/repo or s3://bucket/prefix?endpoint=… (required)")
	f.StringVar(&keyPath, "key", "", "armored private key that signs packages and repomd.xml (required)")
	f.StringVar(&name, "name", "kabiforge", "repository name: RPM-GPG-KEY-NAME, NAME.repo, NAME-release")
	f.StringVar(&baseURL, "base-url", "", "URL clients use for the repository (default: file:// URL of a dir store; none for s3)")
	f.StringArrayVar(&remove, "remove", nil, "NEVRA to remove (name-[epoch:]version-release.arch); repeatable")
	f.IntVar(&keepKernels, "keep-kernels", 0, "keep the newest N kernels per architecture and the kmods they satisfy (0: keep all)")
	f.DurationVar(&window, "window", config.DefaultWindow, "how long replaced metadata and packages stay readable")
	f.BoolVar(&noSign, "no-sign", false, "upload packages as they are (already signed)")
	f.BoolVar(&noRelease, "no-release", false, "do not build the NAME-release package")
	pass.register(cmd)
	_ = cmd.MarkFlagRequired("to")
	_ = cmd.MarkFlagRequired("key")
	return cmd
}

// defaultBaseURL is the file:// URL of a dir store, "" for other stores.
func defaultBaseURL(to string) string {
	if !strings.Contains(to, "://") {
		if abs, err := filepath.Abs(to); err == nil {
			return "file://" + abs
		}
		return ""
	}
	u, err := url.Parse(to)
	if err != nil || (u.Scheme != "dir" && u.Scheme != "file") {
		return ""
	}
	return "file://" + u.Path
}
