package build

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ModuleSigning signs the kernel modules and kernel images a build
// installs, after strip and before rpm digests the files, with a key that
// exists only for that build.
type ModuleSigning struct {
	// Key is the PEM private key. It is written into the build's private
	// directory for the build and removed with it: never into the SRPM, the
	// result dir or a log.
	Key []byte
	// Cert is the DER certificate.
	Cert []byte
	// Command is the signer's argv before KEY CERT BUILDROOT, run inside the
	// build, e.g. ["/usr/bin/kabiforge", "modsign", "sign-buildroot"]. For
	// the mock builder it is a path in the buildroot (e.g. under one of
	// Mock.BindMounts).
	Command []string
}

// Paths of the key and certificate inside the signing directory.
const (
	modsignKeyFile  = "signing_key.pem"
	modsignCertFile = "signing_key.x509"
)

// writeKeys writes the key and certificate into dir (made 0700), where
// a build reads them.
func (m *ModuleSigning) writeKeys(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("module signing: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, modsignKeyFile), m.Key, 0o600); err != nil {
		return fmt.Errorf("module signing: write key: %w", err)
	}
	if err := os.WriteFile(filepath.Join(dir, modsignCertFile), m.Cert, 0o644); err != nil {
		return fmt.Errorf("module signing: write certificate: %w", err)
	}
	return nil
}

// macros returns the rpm macros that sign a build's modules with the keys
// in dir (as the build sees it): ELRepo-style specs sign with sign-file
// under --with modsign and the privkey/pubkey macros; every spec gets the
// signer appended to %__spec_install_post, which runs after the debuginfo
// strip and the brp scripts and before rpm digests the packaged files.
// The hook is Lua, so the macro holds no newline, quote or backslash.
func (m *ModuleSigning) macros(dir string) (map[string]string, error) {
	if len(m.Key) == 0 || len(m.Cert) == 0 || len(m.Command) == 0 {
		return nil, fmt.Errorf("module signing: key, certificate and command are required")
	}
	key, cert := filepath.Join(dir, modsignKeyFile), filepath.Join(dir, modsignCertFile)
	argv := append(append([]string{}, m.Command...), key, cert)
	for _, a := range argv {
		if strings.ContainsAny(a, " \t\n'\"\\%{}") {
			return nil, fmt.Errorf("module signing: command argument %q has a space, quote, backslash or macro character", a)
		}
	}
	nl := " .. string.char(10) .. "
	hook := `%{lua: print(rpm.expand("%{?__debug_package:%{__debug_install_post}}")` + nl +
		`rpm.expand("%{__arch_install_post}")` + nl + `rpm.expand("%{__os_install_post}")` + nl +
		`"` + strings.Join(argv, " ") + ` " .. rpm.expand("%{buildroot}")` + nl + `"")}`
	return map[string]string{
		"_with_modsign":       "--with-modsign",
		"privkey":             key,
		"pubkey":              cert,
		"__spec_install_post": hook,
	}, nil
}
