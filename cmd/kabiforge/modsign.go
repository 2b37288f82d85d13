package main

import (
	"crypto/x509"
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/modsign"
)

// modsignCommand groups the Secure Boot module-signing commands.
func (a *app) modsignCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "modsign",
		Short: "Sign and verify kernel modules and kernel images for Secure Boot",
	}
	cmd.AddCommand(a.modsignBuildrootCommand(), a.modsignVerifyCommand())
	return cmd
}

func (a *app) modsignBuildrootCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "sign-buildroot KEY CERT BUILDROOT",
		Short: "Sign every .ko (as sign-file does) and EFI kernel image (sbsign) under BUILDROOT; run inside builds",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := modsign.SignBuildroot(cmd.Context(), args[0], args[1], args[2])
			if err != nil {
				return badInput(err)
			}
			w := cmd.OutOrStdout()
			for _, m := range s.Modules {
				fmt.Fprintf(w, "kabiforge: signed module /%s\n", m)
			}
			for _, m := range s.Images {
				fmt.Fprintf(w, "kabiforge: signed kernel image /%s\n", m)
			}
			return nil
		},
	}
}

func (a *app) modsignVerifyCommand() *cobra.Command {
	var certPath string
	cmd := &cobra.Command{
		Use:   "verify --cert CERT MODULE|RPM...",
		Short: "Verify module signatures (.ko, .ko.xz/.gz/.zst, or every module in an RPM) against a certificate",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cert, err := modsign.LoadCertificate(certPath)
			if err != nil {
				return badInput(err)
			}
			w := cmd.OutOrStdout()
			bad := 0
			for _, p := range args {
				problems, n, err := verifyOne(p, cert)
				if err != nil {
					return badInput(err)
				}
				for _, pr := range problems {
					fmt.Fprintf(w, "FAIL %s: %s\n", p, pr)
				}
				if len(problems) == 0 {
					fmt.Fprintf(w, "ok   %s (%d modules signed by %q)\n", p, n, cert.Subject.CommonName)
				}
				bad += len(problems)
			}
			if bad > 0 {
				return &exitError{1, fmt.Errorf("%d modules do not verify", bad)}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&certPath, "cert", "", "the module-signing certificate, DER or PEM (required)")
	_ = cmd.MarkFlagRequired("cert")
	return cmd
}

// verifyOne checks one module file or every module in one RPM.
func verifyOne(path string, cert *x509.Certificate) (problems []string, modules int, err error) {
	if modsign.IsModule(path) {
		if err := modsign.VerifyFile(path, cert); err != nil {
			if errors.Is(err, os.ErrNotExist) {
				return nil, 0, err
			}
			return []string{err.Error()}, 1, nil
		}
		return nil, 1, nil
	}
	res, err := modsign.VerifyPackage(path, cert)
	if err != nil {
		return nil, 0, err
	}
	if res.Modules == 0 {
		return nil, 0, fmt.Errorf("%s holds no kernel modules", path)
	}
	return res.Problems, res.Modules, nil
}
