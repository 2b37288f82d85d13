package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
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

// buildReleaseRPM builds and signs <name>-release, a noarch package that
// installs the public key into /etc/pki/rpm-gpg and the .repo file into
// /etc/yum.repos.d, as elrepo-release does. It returns the RPM's path
// under dir.
func buildReleaseRPM(ctx context.Context, dir, name string, release int, files releaseFiles, s *sign.Signer) (string, error) {
	if _, err := exec.LookPath("rpmbuild"); err != nil {
		return "", fmt.Errorf("build %s-release: rpmbuild not found (install rpm, or turn the release package off)", name)
	}
	top := filepath.Join(dir, "rpmbuild")
	src := filepath.Join(top, "SOURCES")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	sources := map[string][]byte{KeyFileKey(name): files.key, RepoFileKey(name): files.repo}
	if files.cert != nil {
		sources[ModuleCertKey(name)] = files.cert
	}
	for file, data := range sources {
		if err := os.WriteFile(filepath.Join(src, file), data, 0o644); err != nil {
			return "", err
		}
	}
	spec := filepath.Join(top, name+"-release.spec")
	if err := os.WriteFile(spec, []byte(releaseSpec(name, release, files)), 0o644); err != nil {
		return "", err
	}
	cmd := exec.CommandContext(ctx, "rpmbuild", "-bb", "--nodeps",
		"--define", "_topdir "+top,
		"--define", "_binary_payload w2.xzdio",
		"--define", "_buildhost kabiforge",
		spec)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s-release: rpmbuild: %w\n%s", name, err, out)
	}
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "noarch", name+"-release-*.rpm"))
	if err != nil || len(rpms) != 1 {
		return "", fmt.Errorf("build %s-release: rpmbuild made %d packages", name, len(rpms))
	}
	if err := s.SignRPM(rpms[0]); err != nil {
		return "", err
	}
	return rpms[0], nil
}

// releaseFiles are what a release package installs: the public key, the
// .repo file and, when modules are signed, the Secure Boot certificate.
type releaseFiles struct {
	key, repo, cert []byte
}

// content fingerprints what a release package installs, so a change of
// key, certificate or base URL is seen in the published package.
func (f releaseFiles) content() string {
	h := sha256.New()
	h.Write(f.key)
	h.Write([]byte{0})
	h.Write(f.repo)
	if f.cert != nil {
		h.Write([]byte{0})
		h.Write(f.cert)
	}
	return hex.EncodeToString(h.Sum(nil))[:16]
}

// releaseContentDep is the Provides that carries releaseContent.
func releaseContentDep(name string) string { return name + "-release-content" }

func releaseSpec(name string, release int, files releaseFiles) string {
	var certSource, certInstall, certFile, certDesc string
	if files.cert != nil {
		certDesc = "\nIt also installs the certificate its kernel modules and kernels are signed\nwith for Secure Boot; enroll it with: " + MokutilLine(name) + "\n"
		cert := InstalledModuleCert(name)
		certSource = "Source2: " + ModuleCertKey(name) + "\n"
		certInstall = "install -D -m 0644 %{SOURCE2} %{buildroot}" + cert + "\n"
		certFile = cert + "\n"
	}
	return `Name: ` + name + `-release
Version: 1
Release: ` + strconv.Itoa(release) + `
Provides: ` + releaseContentDep(name) + ` = ` + files.content() + `
Summary: Repository configuration and signing key of ` + name + `
License: MIT
BuildArch: noarch
AutoReqProv: no
Source0: RPM-GPG-KEY-` + name + `
Source1: ` + name + `.repo
` + certSource + `
%description
Installs the dnf repository definition of ` + name + ` and the public key that
signs its packages and metadata.
` + certDesc + `
%install
install -D -m 0644 %{SOURCE0} %{buildroot}/etc/pki/rpm-gpg/RPM-GPG-KEY-` + name + `
install -D -m 0644 %{SOURCE1} %{buildroot}/etc/yum.repos.d/` + name + `.repo
` + certInstall + `
%files
/etc/pki/rpm-gpg/RPM-GPG-KEY-` + name + `
%config(noreplace) /etc/yum.repos.d/` + name + `.repo
` + certFile
}
