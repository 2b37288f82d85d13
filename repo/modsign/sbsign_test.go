package modsign_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign"
)

// TestSignBuildrootSignsTheKernelImage signs a real Debian cloud kernel's
// vmlinuz (an EFI-stub bzImage) in a buildroot; sbverify accepts it with
// the key's certificate and refuses it with another.
func TestSignBuildrootSignsTheKernelImage(t *testing.T) {
	testutil.RequireTool(t, "sbsign")
	sbverify := testutil.RequireTool(t, "sbverify")
	tree := kftest.Need(t, "6.1.0-47")
	// An external test: kftest imports modsign. Its own keys, then.
	key, err := modsign.Generate("kabiforge test module key", 2048)
	if err != nil {
		t.Fatal(err)
	}
	other, err := modsign.Generate("another module key", 2048)
	if err != nil {
		t.Fatal(err)
	}
	files, err := key.WriteFiles(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	root := t.TempDir()
	img := filepath.Join(root, "boot", "vmlinuz-6.1.0-47-cloud-amd64")
	data, err := os.ReadFile(tree.Vmlinuz())
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(img), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, data, 0o644); err != nil {
		t.Fatal(err)
	}
	signed, err := modsign.SignBuildroot(context.Background(), files.Private, files.Cert, root)
	if err != nil {
		t.Fatal(err)
	}
	if len(signed.Images) != 1 || signed.Images[0] != "boot/vmlinuz-6.1.0-47-cloud-amd64" {
		t.Fatalf("signed %+v", signed)
	}
	dir := t.TempDir()
	for name, k := range map[string]*modsign.Key{"ours.pem": key, "other.pem": other} {
		if err := os.WriteFile(filepath.Join(dir, name), k.CertificatePEM(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := exec.Command(sbverify, "--cert", filepath.Join(dir, "ours.pem"), img).CombinedOutput(); err != nil {
		t.Errorf("sbverify with the key's certificate: %v\n%s", err, out)
	}
	if out, err := exec.Command(sbverify, "--cert", filepath.Join(dir, "other.pem"), img).CombinedOutput(); err == nil {
		t.Errorf("sbverify accepted another certificate:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(files.Private), ".sbsign-cert.pem")); !os.IsNotExist(err) {
		t.Errorf("the PEM certificate for sbsign was left behind: %v", err)
	}
}
