package publish

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign"
)

// With a module-signing certificate, a publish puts it at the repository
// root and into test-release under /etc/pki/test/, which dnf installs, and
// both .repo files carry the mokutil line.
func TestPublishSecureBootCertificate(t *testing.T) {
	testutil.RequireTool(t, "dnf")
	key, err := modsign.Generate("kabiforge publish test", 2048)
	if err != nil {
		t.Fatal(err)
	}
	cert := key.CertificateDER()
	rpms := testutil.RPMBuild(t, testutil.SimpleSpec("hello", "1.0", "1"))
	dir := t.TempDir()
	p := newPublisher(t, dirStore(t, dir), Config{BaseURL: "file://" + dir, SignPackages: true, ReleasePackage: true, ModuleCert: cert})
	mustPublish(t, p, ChangeSet{Add: rpms})

	if got, err := os.ReadFile(filepath.Join(dir, "SECURE-BOOT-KEY-test.der")); err != nil || !bytes.Equal(got, cert) {
		t.Errorf("SECURE-BOOT-KEY-test.der at the root: %v", err)
	}
	line := "mokutil --import /etc/pki/test/SECURE-BOOT-KEY-test.der"
	repo, _ := os.ReadFile(filepath.Join(dir, "test.repo"))
	if !strings.Contains(string(repo), line) {
		t.Errorf("test.repo lacks %q:\n%s", line, repo)
	}
	if got := releaseRepoFile(t, dir, "test-release-1-1.noarch.rpm"); !strings.Contains(got, line) {
		t.Errorf("test-release's test.repo lacks %q:\n%s", line, got)
	}

	root := testutil.NewDNFRoot(t)
	root.AddRepo(testutil.Repo{Name: "test", BaseURL: "file://" + dir, GPGKey: "file://" + filepath.Join(dir, KeyFileKey("test"))})
	if out, err := root.Install("test-release"); err != nil {
		t.Fatalf("dnf install test-release: %v\n%s", err, out)
	}
	installed, err := os.ReadFile(filepath.Join(root.Root, "etc", "pki", "test", "SECURE-BOOT-KEY-test.der"))
	if err != nil || !bytes.Equal(installed, cert) {
		t.Fatalf("installed certificate: %v", err)
	}
	if c, err := modsign.ParseCertificate(installed); err != nil || c.Subject.CommonName != key.Signer() {
		t.Errorf("installed certificate does not parse as the key's: %v", err)
	}
}
