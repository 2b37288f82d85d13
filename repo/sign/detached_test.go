package sign

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

func TestVerifyRealRepomdSignature(t *testing.T) {
	dir := testutil.SharedData(t, "rpm", "librepo", "repo_yum_01", "repodata")
	for _, keyFile := range []string{"repomd.xml.key", "repomd.xml.key.asc"} { // binary and armored
		kr, err := LoadKeyring(filepath.Join(dir, keyFile))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := kr.VerifyFile(filepath.Join(dir, "repomd.xml"), filepath.Join(dir, "repomd.xml.asc")); err != nil {
			t.Errorf("%s: real repomd.xml signature: %v", keyFile, err)
		}
		_, err = kr.VerifyFile(filepath.Join(dir, "repomd.xml_bad"), filepath.Join(dir, "repomd.xml.asc"))
		if err == nil || !strings.Contains(err.Error(), "repomd.xml_bad") {
			t.Errorf("%s: repomd.xml_bad: got %v, want a verification error naming the file", keyFile, err)
		}
	}
}

func TestDetachedSignatureRoundTrip(t *testing.T) {
	dir := t.TempDir()
	repomd := filepath.Join(dir, "repomd.xml")
	if err := os.WriteFile(repomd, []byte("<repomd/>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	key := testKey(t, RSA4096)
	asc, err := NewSigner(key).SignFile(repomd)
	if err != nil {
		t.Fatal(err)
	}
	if asc != repomd+".asc" {
		t.Errorf("signature written to %s", asc)
	}
	data, _ := os.ReadFile(asc)
	if !bytes.HasPrefix(data, []byte("-----BEGIN PGP SIGNATURE-----")) {
		t.Errorf("signature is not armored:\n%s", data)
	}
	id, err := key.Keyring().VerifyFile(repomd, asc)
	if err != nil || id != key.KeyID() {
		t.Fatalf("VerifyFile = %q, %v; want %s", id, err, key.KeyID())
	}
	if err := os.WriteFile(repomd, []byte("<repomd>tampered</repomd>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := key.Keyring().VerifyFile(repomd, asc); err == nil {
		t.Error("a tampered repomd.xml verified")
	}
	other := testKey(t, Ed25519)
	if _, err := other.Keyring().VerifyFile(repomd, asc); err == nil || !strings.Contains(err.Error(), "not in the keyring") {
		t.Errorf("verifying with the wrong key: %v", err)
	}
}

func TestDetachedSignatureAcceptedByGPG(t *testing.T) {
	gpg := testutil.RequireTool(t, "gpg")
	dir := t.TempDir()
	key := testKey(t, RSA4096)
	files, err := key.WriteFiles(dir, "gpgtest", nil)
	if err != nil {
		t.Fatal(err)
	}
	repomd := filepath.Join(dir, "repomd.xml")
	if err := os.WriteFile(repomd, []byte("<repomd/>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	asc, err := NewSigner(key).SignFile(repomd)
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() })
	run(t, gpg, "--homedir", home, "--batch", "--import", files.Public)
	run(t, gpg, "--homedir", home, "--batch", "--trust-model", "always", "--verify", asc, repomd)
}

func TestVerifyGPGTextModeSignature(t *testing.T) {
	gpg := testutil.RequireTool(t, "gpg")
	dir := t.TempDir()
	key := testKey(t, Ed25519)
	home := filepath.Join(dir, "gnupg")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = exec.Command("gpgconf", "--homedir", home, "--kill", "gpg-agent").Run() })
	secret := filepath.Join(dir, "secret.asc")
	f, err := os.Create(secret)
	if err != nil {
		t.Fatal(err)
	}
	if err := key.WritePrivate(f, nil); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run(t, gpg, "--homedir", home, "--batch", "--import", secret)
	doc := filepath.Join(dir, "repomd.xml")
	if err := os.WriteFile(doc, []byte("<repomd>\n  <revision>1</revision>\n</repomd>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, mode := range [][]string{{"--textmode"}, nil} {
		asc := doc + ".asc"
		os.Remove(asc)
		args := append([]string{"--homedir", home, "--batch", "--armor", "--local-user", key.KeyID(), "--detach-sign"}, mode...)
		run(t, gpg, append(args, doc)...)
		if _, err := key.Keyring().VerifyFile(doc, asc); err != nil {
			t.Errorf("gpg signature %v: %v", mode, err)
		}
	}
}
