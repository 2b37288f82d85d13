package publish

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"

	"github.com/kabiforge/kabiforge/repo/sign"
)

// releaseCache builds the release package at most once per publish.
type releaseCache struct {
	dir   string
	entry *entry
}

// get returns the release package to add, and the NEVRA of the one it
// replaces; nil when the repository's release package installs the current
// key and .repo file, or none is wanted.
func (c *releaseCache) get(ctx context.Context, p *Publisher, st *state) (*entry, string, error) {
	if !p.cfg.ReleasePackage || p.cfg.BaseURL == "" {
		return nil, "", nil
	}
	key, err := publicKey(p.cfg.Signer)
	if err != nil {
		return nil, "", err
	}
	files := releaseFiles{key: key, cert: p.cfg.ModuleCert,
		repo: RepoFile(p.cfg.Name, p.cfg.BaseURL, InstalledKeyURL(p.cfg.Name), p.cfg.ModuleCert != nil)}
	content := files.content()
	release, old := 1, ""
	for _, pkg := range st.pkgs {
		if pkg.Name != p.cfg.Name+"-release" {
			continue
		}
		for _, d := range pkg.Provides {
			if d.Name == releaseContentDep(p.cfg.Name) && d.Version == content {
				return nil, "", nil
			}
		}
		n, _ := strconv.Atoi(pkg.Release)
		release, old = max(release, n+1), pkg.NEVRA()
	}
	if c.entry == nil {
		path, err := buildReleaseRPM(ctx, c.dir, p.cfg.Name, release, files, p.cfg.Signer)
		if err != nil {
			return nil, "", err
		}
		if c.entry, err = describeLocal(path); err != nil {
			return nil, "", err
		}
	}
	return c.entry, old, nil
}

// buildReleaseRPM builds and signs <name>-release, a noarch package that
// installs the public key into /etc/pki/rpm-gpg and the .repo file into
// /etc/yum.repos.d, as elrepo-release does. It returns the RPM's path
// under dir.
//
// The package is reproducible: the same name, release, files and key make
// the same bytes, wherever and whenever it is built, so a publish retried
// after a crash uploads the file the interrupted attempt did. Its one time,
// the build time, the files' mtimes and the signature's creation time, is
// the signing key's creation time (SOURCE_DATE_EPOCH); the build host is
// fixed; and the payload compressor (xz, one thread) and signature scheme
// are deterministic.
func buildReleaseRPM(ctx context.Context, dir, name string, release int, files releaseFiles, s *sign.Signer) (string, error) {
	if _, err := exec.LookPath("rpmbuild"); err != nil {
		return "", fmt.Errorf("build %s-release: rpmbuild not found (install rpm, or turn the release package off)", name)
	}
	top := filepath.Join(dir, "rpmbuild")
	src := filepath.Join(top, "SOURCES")
	if err := os.MkdirAll(src, 0o755); err != nil {
		return "", err
	}
	epoch := s.Key().Created()
	sources := map[string][]byte{KeyFileKey(name): files.key, RepoFileKey(name): files.repo}
	if files.cert != nil {
		sources[ModuleCertKey(name)] = files.cert
	}
	for file, data := range sources {
		path := filepath.Join(src, file)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			return "", err
		}
		if err := os.Chtimes(path, epoch, epoch); err != nil {
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
		"--define", "use_source_date_epoch_as_buildtime 1",
		"--define", "clamp_mtime_to_source_date_epoch 1",
		"--define", "_build_id_links none",
		spec)
	cmd.Env = append(os.Environ(), "SOURCE_DATE_EPOCH="+strconv.FormatInt(epoch.Unix(), 10), "TZ=UTC", "LC_ALL=C")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build %s-release: rpmbuild: %w\n%s", name, err, out)
	}
	rpms, err := filepath.Glob(filepath.Join(top, "RPMS", "noarch", name+"-release-*.rpm"))
	if err != nil || len(rpms) != 1 {
		return "", fmt.Errorf("build %s-release: rpmbuild made %d packages", name, len(rpms))
	}
	if err := s.At(epoch).SignRPM(rpms[0]); err != nil {
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
%defattr(-,root,root,-)
/etc/pki/rpm-gpg/RPM-GPG-KEY-` + name + `
%config(noreplace) /etc/yum.repos.d/` + name + `.repo
` + certFile
}
