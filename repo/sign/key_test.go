package sign

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestWriteFilesAndLoadKey(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t, RSA4096)
	pass := []byte("correct horse")
	files, err := key.WriteFiles(dir, "kabiforge", pass)
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(files.Public) != "RPM-GPG-KEY-kabiforge" {
		t.Errorf("public key file %s", files.Public)
	}
	st, err := os.Stat(files.Private)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v, want 0600", st.Mode().Perm())
	}
	priv, _ := os.ReadFile(files.Private)
	if !bytes.HasPrefix(priv, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----")) {
		t.Error("private key is not armored")
	}

	loaded, err := LoadKey(files.Private, pass)
	if err != nil {
		t.Fatal(err)
	}
	if loaded.Fingerprint() != key.Fingerprint() || loaded.KeyID() != key.KeyID() {
		t.Errorf("loaded key %s, want %s", loaded.Fingerprint(), key.Fingerprint())
	}
	if loaded.Identity() != "kabiforge test <test@kabiforge.invalid>" {
		t.Errorf("identity %q", loaded.Identity())
	}
	if _, err := key.WriteFiles(dir, "kabiforge", nil); err == nil {
		t.Error("WriteFiles overwrote an existing key")
	}
}

func TestLoadKeyErrorsNameTheFileAndHideTheKey(t *testing.T) {
	dir := t.TempDir()
	key := testKey(t, Ed25519)
	files, err := key.WriteFiles(dir, "k", []byte("secret-pass"))
	if err != nil {
		t.Fatal(err)
	}
	unreadable := filepath.Join(dir, "unreadable.asc")
	if err := os.WriteFile(unreadable, []byte("x"), 0o000); err != nil {
		t.Fatal(err)
	}
	garbage := filepath.Join(dir, "garbage.asc")
	if err := os.WriteFile(garbage, []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nnot base64!\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, path string
		pass       string
		want       string
	}{
		{"missing", filepath.Join(dir, "nope.asc"), "", "no such file"},
		{"public key only", files.Public, "", "not a private key"},
		{"wrong passphrase", files.Private, "wrong", "wrong passphrase"},
		{"no passphrase", files.Private, "", "passphrase-protected"},
		{"not a key", garbage, "", "bad armor"},
		{"a directory", dir, "", "is a directory"},
	}
	if os.Geteuid() != 0 { // root reads mode-0 files
		cases = append(cases, struct{ name, path, pass, want string }{"unreadable", unreadable, "", "permission denied"})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := LoadKey(c.path, []byte(c.pass))
			if err == nil {
				t.Fatal("loaded")
			}
			msg := err.Error()
			if !strings.Contains(msg, c.path) || !strings.Contains(msg, c.want) {
				t.Errorf("error %q, want it to name %s and say %q", msg, c.path, c.want)
			}
			if strings.Contains(msg, "secret-pass") || strings.Contains(msg, "BEGIN PGP") {
				t.Errorf("error leaks key material: %q", msg)
			}
		})
	}
	_, err = LoadKey(files.Private, []byte("wrong"))
	if !errors.Is(err, ErrWrongPassphrase) {
		t.Errorf("wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
}

func TestGenerateRejectsBadInput(t *testing.T) {
	if _, err := Generate("", "a@b", RSA4096); err == nil {
		t.Error("generated a key without a name")
	}
	if _, err := Generate("x", "a@b", "dsa1024"); err == nil || !strings.Contains(err.Error(), "dsa1024") {
		t.Errorf("unknown algorithm: %v", err)
	}
	key := testKey(t, Ed25519)
	if _, err := key.WriteFiles(t.TempDir(), "../escape", nil); err == nil {
		t.Error("WriteFiles accepted a name with a path in it")
	}
}
