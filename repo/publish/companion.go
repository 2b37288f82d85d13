package publish

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/kabiforge/kabiforge/repo/sign"
)

// validName is what a repository name may hold: it becomes a file name,
// a dnf repo id and a package name.
var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._+-]*$`)

// KeyFileKey is the store key of a repository's public key.
func KeyFileKey(name string) string { return "RPM-GPG-KEY-" + name }

// InstalledKeyURL is where the <name>-release package installs the public key.
func InstalledKeyURL(name string) string { return "file:///etc/pki/rpm-gpg/" + KeyFileKey(name) }

// ModuleCertKey is the store key of a repository's Secure Boot
// certificate (DER), the one its kernel modules and kernels are signed with.
func ModuleCertKey(name string) string { return "SECURE-BOOT-KEY-" + name + ".der" }

// InstalledModuleCert is where the <name>-release package installs the
// Secure Boot certificate, the file users pass to mokutil --import.
func InstalledModuleCert(name string) string { return "/etc/pki/" + name + "/" + ModuleCertKey(name) }

// MokutilLine is the command that enrolls the repository's Secure Boot key
// on a machine that installed <name>-release.
func MokutilLine(name string) string { return "mokutil --import " + InstalledModuleCert(name) }

// RepoFileKey is the store key of a repository's dnf .repo file.
func RepoFileKey(name string) string { return name + ".repo" }

// publicKey returns the armored public key of s.
func publicKey(s *sign.Signer) ([]byte, error) {
	var buf bytes.Buffer
	if err := s.Key().WritePublic(&buf); err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// RepoFile returns the dnf .repo file of a repository at baseURL whose
// packages and repomd.xml are signed by the key at gpgKeyURL. With
// secureBoot its comment says how to enroll the module-signing key.
func RepoFile(name, baseURL, gpgKeyURL string, secureBoot bool) []byte {
	var head []byte
	if secureBoot {
		head = fmt.Appendf(nil, `# Kernel modules and kernels in %s are signed for Secure Boot with the key in
# %s (installed by %s-release; also at the repository root).
# Enroll it once, then confirm at the next boot (MokManager):
#   %s
`, name, InstalledModuleCert(name), name, MokutilLine(name))
	}
	return fmt.Appendf(head, `[%s]
name=%s
baseurl=%s
enabled=1
gpgcheck=1
repo_gpgcheck=1
gpgkey=%s
`, name, name, strings.TrimSuffix(baseURL, "/")+"/", gpgKeyURL)
}

// writeCompanions writes RPM-GPG-KEY-<name> and, with a base URL,
// <name>.repo.
func (p *Publisher) writeCompanions(ctx context.Context) error {
	key, err := publicKey(p.cfg.Signer)
	if err != nil {
		return err
	}
	if err := p.putIfChanged(ctx, KeyFileKey(p.cfg.Name), key); err != nil {
		return err
	}
	if p.cfg.ModuleCert != nil {
		if err := p.putIfChanged(ctx, ModuleCertKey(p.cfg.Name), p.cfg.ModuleCert); err != nil {
			return err
		}
	}
	if p.cfg.BaseURL == "" {
		return nil
	}
	return p.putIfChanged(ctx, RepoFileKey(p.cfg.Name), RepoFile(p.cfg.Name, p.cfg.BaseURL,
		strings.TrimSuffix(p.cfg.BaseURL, "/")+"/"+KeyFileKey(p.cfg.Name), p.cfg.ModuleCert != nil))
}
