package workflows_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/publish"
)

// moduleKey makes the module-signing key the pipeline's builds sign with.
func (p *livePipeline) moduleKey() *modsign.Key {
	key, err := modsign.Generate("kabiforge e2e Secure Boot", 2048)
	if err != nil {
		p.t.Fatal(err)
	}
	if p.modKeyPEM, err = key.PrivatePEM(); err != nil {
		p.t.Fatal(err)
	}
	p.modKey = key
	return key
}

// secrets are strings no history, log, SRPM or published file may hold:
// the passphrase and lines of both private keys.
func (p *livePipeline) secrets() []string {
	// The first body lines of an armored secret key are its public key
	// packet, which RPM-GPG-KEY rightly holds too: take a line near the
	// end, inside the secret key material.
	armor := strings.Split(strings.TrimSpace(p.keyArmor), "\n")
	out := []string{"PRIVATE KEY BLOCK", "BEGIN PRIVATE KEY", passphrase, armor[len(armor)-4]}
	return append(out, strings.Split(string(p.modKeyPEM), "\n")[1:4]...)
}

// checkSecureBoot checks what a machine that installed from the repository
// has: kmod modules that verify against the certificate the pipeline
// published at the repository's root (SECURE-BOOT-KEY-<name>.der). The
// pipeline does not publish <name>-release yet (`repo publish` does): its
// release package would be rebuilt, with new bytes, by a publish retried
// after a crash.
func (p *livePipeline) checkSecureBoot(installroot string) {
	p.t.Helper()
	certPath := filepath.Join(p.repoDir, publish.ModuleCertKey(repoName))
	cert, err := modsign.LoadCertificate(certPath)
	if err != nil {
		p.t.Fatalf("published certificate: %v", err)
	}
	if !bytes.Equal(cert.Raw, p.modKey.CertificateDER()) {
		p.t.Error("the published certificate is not the repository's")
	}
	n := 0
	filepath.WalkDir(filepath.Join(installroot, "lib", "modules"), func(path string, d fs.DirEntry, err error) error {
		if err == nil && modsign.IsModule(d.Name()) {
			n++
			if err := modsign.VerifyFile(path, cert); err != nil {
				p.t.Errorf("installed module: %v", err)
			}
		}
		return nil
	})
	if n == 0 {
		p.t.Error("no kernel module installed from the repository")
	}
}

// checkNoKeyIn greps every file under dir (artifacts with logs and SRPMs,
// the published repository) for private key material.
func (p *livePipeline) checkNoKeyIn(dir string) {
	p.t.Helper()
	secrets := p.secrets()
	files := 0
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() || strings.HasSuffix(path, "signing.asc") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return nil
		}
		files++
		for _, s := range secrets {
			if bytes.Contains(data, []byte(s)) {
				p.t.Errorf("%s holds secret material %q", path, s)
			}
		}
		return nil
	})
	if files < 10 {
		p.t.Errorf("grepped only %d files under %s", files, dir)
	}
}
