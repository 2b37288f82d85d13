package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/sign"
)

// keyCommand groups the signing key commands.
func (a *app) keyCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "key",
		Short: "Manage the OpenPGP key that signs packages and repositories and the module-signing key",
	}
	cmd.AddCommand(a.keyGenerateCommand())
	return cmd
}

// passphraseFlags say where a key's passphrase comes from: never a flag
// value, which would show in ps.
type passphraseFlags struct {
	file string
	env  string
}

func (p *passphraseFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&p.file, "passphrase-file", "", "read the key passphrase from this file (first line)")
	cmd.Flags().StringVar(&p.env, "passphrase-env", "", "read the key passphrase from this environment variable")
}

// read returns the passphrase, or nil when none was asked for.
func (p *passphraseFlags) read() ([]byte, error) {
	switch {
	case p.file != "" && p.env != "":
		return nil, errors.New("give --passphrase-file or --passphrase-env, not both")
	case p.file != "":
		data, err := os.ReadFile(p.file)
		if err != nil {
			return nil, fmt.Errorf("--passphrase-file: %w", err)
		}
		line, _, _ := bytes.Cut(data, []byte("\n"))
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			return nil, fmt.Errorf("--passphrase-file %s: empty passphrase", p.file)
		}
		return line, nil
	case p.env != "":
		v, ok := os.LookupEnv(p.env)
		if !ok || v == "" {
			return nil, fmt.Errorf("--passphrase-env: environment variable %s is not set", p.env)
		}
		return []byte(v), nil
	}
	return nil, nil
}

// loadKey loads a signing key for a command, as a bad-input error.
func (p *passphraseFlags) loadKey(path string) (*sign.Key, error) {
	pass, err := p.read()
	if err != nil {
		return nil, badInput(err)
	}
	key, err := sign.LoadKey(path, pass)
	if err != nil {
		return nil, badInput(err)
	}
	return key, nil
}

var unsafeFileChars = regexp.MustCompile(`[^A-Za-z0-9._-]+`)

// keyFileName turns a key's name into the <name> of RPM-GPG-KEY-<name>.
func keyFileName(name string) string {
	return strings.Trim(unsafeFileChars.ReplaceAllString(strings.TrimSpace(name), "-"), "-.")
}

func (a *app) keyGenerateCommand() *cobra.Command {
	var (
		name, email, out, algo, fileName string
		modBits                          int
		pass                             passphraseFlags
	)
	cmd := &cobra.Command{
		Use:   "generate --name NAME --email EMAIL --out DIR",
		Short: "Generate the signing keys: DIR/<name>.private.asc, DIR/RPM-GPG-KEY-<name>, DIR/<name>.modsign.pem, DIR/SECURE-BOOT-KEY-<name>.der",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if fileName == "" {
				fileName = keyFileName(name)
			}
			if fileName == "" {
				return badInput(errors.New("--name is required"))
			}
			passphrase, err := pass.read()
			if err != nil {
				return badInput(err)
			}
			if err := os.MkdirAll(out, 0o755); err != nil {
				return badInput(fmt.Errorf("--out: %w", err))
			}
			key, err := sign.Generate(name, email, sign.Algorithm(algo))
			if err != nil {
				return badInput(err)
			}
			if err := modsign.FileNames(out, fileName).Absent(); err != nil {
				return badInput(err)
			}
			modKey, err := modsign.Generate(name, modBits)
			if err != nil {
				return badInput(err)
			}
			files, err := key.WriteFiles(out, fileName, passphrase)
			if err != nil {
				return err
			}
			modFiles, err := modKey.WriteFiles(out, fileName)
			if err != nil {
				return err
			}
			a.log.Info().Str("key_id", key.KeyID()).Str("public", files.Public).Msg("signing key generated")
			w := cmd.OutOrStdout()
			fmt.Fprintf(w, "key:         %s\n", key.Identity())
			fmt.Fprintf(w, "key ID:      %s\n", key.KeyID())
			fmt.Fprintf(w, "fingerprint: %s\n", key.Fingerprint())
			fmt.Fprintf(w, "private key: %s (keep it secret)\n", files.Private)
			fmt.Fprintf(w, "public key:  %s\n", files.Public)
			fmt.Fprintf(w, "module-signing key:  %s (keep it secret; signs kernel modules and images)\n", modFiles.Private)
			fmt.Fprintf(w, "module-signing cert: %s (SHA-256 %s; users: mokutil --import %s)\n",
				modFiles.Cert, modKey.Fingerprint(), filepath.Base(modFiles.Cert))
			return nil
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name on the key, e.g. \"Example Kernel Builds\"; also names the files (required)")
	cmd.Flags().StringVar(&email, "email", "", "email address on the key")
	cmd.Flags().StringVar(&out, "out", ".", "directory to write the key files into")
	cmd.Flags().StringVar(&algo, "algorithm", string(sign.RSA4096), "key type: rsa4096 or ed25519")
	cmd.Flags().StringVar(&fileName, "file-name", "", "the <name> in the file names (default: from --name)")
	cmd.Flags().IntVar(&modBits, "module-key-bits", modsign.DefaultBits, "RSA size of the module-signing key")
	pass.register(cmd)
	_ = cmd.MarkFlagRequired("name")
	return cmd
}
