package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign"
)

// runInProcess runs kabiforge's root command with args and returns its
// standard output and error.
func runInProcess(t *testing.T, args ...string) (string, error) {
	t.Helper()
	a := &app{self: kabiforgeBin}
	root := a.rootCommand()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(append([]string{"--log-format", "json", "--log-level", "warn"}, args...))
	err := root.ExecuteContext(context.Background())
	return out.String(), err
}

func exitCode(err error) int {
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if err != nil {
		return 1
	}
	return 0
}

func TestKeyGenerateAndRepoSignWithPassphrase(t *testing.T) {
	testutil.RequireTool(t, "rpmkeys")
	dir := t.TempDir()
	passFile := filepath.Join(dir, "pass")
	if err := os.WriteFile(passFile, []byte("s3cret words\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys")
	out, err := runInProcess(t, "key", "generate", "--name", "Sign Test", "--email", "sign@kabiforge.invalid",
		"--out", keys, "--algorithm", "ed25519", "--passphrase-file", passFile, "--module-key-bits", "2048")
	if err != nil {
		t.Fatalf("key generate: %v\n%s", err, out)
	}
	priv := filepath.Join(keys, "Sign-Test.private.asc")
	pub := filepath.Join(keys, "RPM-GPG-KEY-Sign-Test")
	if !regexp.MustCompile(`fingerprint: [0-9A-F]{40}\n`).MatchString(out) || !strings.Contains(out, pub) {
		t.Errorf("key generate output lacks the fingerprint or paths:\n%s", out)
	}
	modKey, err := modsign.LoadKey(filepath.Join(keys, "Sign-Test.modsign.pem"), filepath.Join(keys, "SECURE-BOOT-KEY-Sign-Test.der"))
	if err != nil || modKey.Signer() != "Sign Test" || !strings.Contains(out, "mokutil --import SECURE-BOOT-KEY-Sign-Test.der") {
		t.Errorf("module-signing key: %v\n%s", err, out)
	}

	pkgs := t.TempDir()
	for _, name := range []string{"cli-a", "cli-b"} {
		for _, p := range testutil.RPMBuild(t, testutil.SimpleSpec(name, "1.0", "1")) {
			data, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(pkgs, filepath.Base(p)), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	_, err = runInProcess(t, "repo", "sign", "--key", priv, "--passphrase-file", filepath.Join(dir, "nope"), pkgs)
	if exitCode(err) != 2 {
		t.Errorf("missing passphrase file: exit %d (%v), want 2", exitCode(err), err)
	}
	t.Setenv("KABIFORGE_TEST_PASS", "wrong")
	_, err = runInProcess(t, "repo", "sign", "--key", priv, "--passphrase-env", "KABIFORGE_TEST_PASS", pkgs)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), priv) {
		t.Errorf("wrong passphrase: exit %d, %v", exitCode(err), err)
	}
	t.Setenv("KABIFORGE_TEST_PASS", "s3cret words")
	out, err = runInProcess(t, "repo", "sign", "--key", priv, "--passphrase-env", "KABIFORGE_TEST_PASS", pkgs)
	if err != nil {
		t.Fatalf("repo sign: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`^2 packages signed with key [0-9A-F]{16} in \S+\n$`).MatchString(out) {
		t.Errorf("summary line %q", out)
	}

	root, err := filepath.Abs(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("rpmkeys", "--root", root, "--import", pub).CombinedOutput(); err != nil {
		t.Fatalf("rpmkeys --import: %v\n%s", err, b)
	}
	signed, _ := filepath.Glob(filepath.Join(pkgs, "*.rpm"))
	for _, p := range signed {
		b, err := exec.Command("rpmkeys", "--root", root, "--checksig", "--define", "_pkgverify_level signature", p).CombinedOutput()
		if err != nil {
			t.Errorf("rpmkeys --checksig %s: %v\n%s", p, err, b)
		}
	}
}

func TestRepoSignRefusesNonRPMs(t *testing.T) {
	dir := t.TempDir()
	if out, err := runInProcess(t, "key", "generate", "--name", "x", "--algorithm", "ed25519", "--out", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("hello\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := runInProcess(t, "repo", "sign", "--key", filepath.Join(dir, "x.private.asc"), notes)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), notes) {
		t.Errorf("signing a text file as an RPM: exit %d, %v", exitCode(err), err)
	}
	fake := filepath.Join(dir, "fake.rpm")
	if err := os.WriteFile(fake, []byte("<html>not found</html>"+strings.Repeat(" ", 200)), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = runInProcess(t, "repo", "sign", "--key", filepath.Join(dir, "x.private.asc"), fake)
	if exitCode(err) != 2 || !strings.Contains(err.Error(), fake) || !strings.Contains(err.Error(), "not an RPM") {
		t.Errorf("signing a non-RPM: exit %d, %v", exitCode(err), err)
	}
	out, err := runInProcess(t, "repo", "sign", "--detach", "--key", filepath.Join(dir, "x.private.asc"), notes)
	if err != nil {
		t.Fatalf("--detach: %v\n%s", err, out)
	}
	if _, err := os.Stat(notes + ".asc"); err != nil {
		t.Errorf("--detach wrote no signature: %v", err)
	}
}
