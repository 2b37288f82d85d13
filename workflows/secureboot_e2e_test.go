package workflows_test

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"

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

// checkSecureBoot checks what a machine that installed from the repository
// has: the certificate from <name>-release, the same as the one the
// pipeline published at the repository's root (SECURE-BOOT-KEY-<name>.der),
// and kmod modules that verify against it.
func (p *livePipeline) checkSecureBoot(installroot string) {
	p.t.Helper()
	cert, err := modsign.LoadCertificate(filepath.Join(installroot, publish.InstalledModuleCert(repoName)))
	if err != nil {
		p.t.Fatalf("certificate from %s-release: %v", repoName, err)
	}
	root, err := os.ReadFile(filepath.Join(p.repoDir, publish.ModuleCertKey(repoName)))
	if err != nil {
		p.t.Fatalf("published certificate: %v", err)
	}
	if !bytes.Equal(cert.Raw, p.modKey.CertificateDER()) || !bytes.Equal(root, cert.Raw) {
		p.t.Error("the installed or published certificate is not the repository's")
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
