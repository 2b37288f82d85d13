package modsign

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestSignIsSignFile signs the same module with Sign and with kbuild's
// scripts/sign-file: RSA PKCS#1 v1.5 without signed attributes is
// deterministic, so both must write the same bytes, and openssl cms and
// modinfo read ours.
func TestSignIsSignFile(t *testing.T) {
	key, _ := keys(t)
	files := keyFiles(t, key)
	module := moduleBytes(t)

	ours, err := key.Sign(module)
	if err != nil {
		t.Fatal(err)
	}
	ko := filepath.Join(t.TempDir(), "kabiforge_signme.ko")
	if err := os.WriteFile(ko, module, 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(signFileTool(t), "sha256", files.Private, files.Cert, ko).CombinedOutput(); err != nil {
		t.Fatalf("sign-file: %v\n%s", err, out)
	}
	theirs, err := os.ReadFile(ko)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ours, theirs) {
		t.Errorf("Sign wrote %d bytes, sign-file %d; they differ", len(ours), len(theirs))
	}
	if err := Verify(theirs, key.Certificate()); err != nil {
		t.Errorf("Verify rejects sign-file's module: %v", err)
	}
	if err := opensslVerify(t, ours, key.CertificateDER()); err != nil {
		t.Errorf("openssl cms rejects our signature: %v", err)
	}

	testutil.RequireTool(t, "modinfo")
	if err := os.WriteFile(ko, ours, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("modinfo", "-F", "signer", ko).Output()
	if err != nil {
		t.Fatalf("modinfo: %v", err)
	}
	if got := strings.TrimSpace(string(out)); got != key.Signer() {
		t.Errorf("modinfo -F signer = %q, want %q", got, key.Signer())
	}
}

// TestVerifyRejects tampers with a signed module in the ways the issue
// names; our verifier and openssl cms must both refuse each.
func TestVerifyRejects(t *testing.T) {
	key, other := keys(t)
	signed, err := key.Sign(moduleBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	payload, p7, err := Split(signed)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(at int) []byte {
		b := bytes.Clone(signed)
		b[at] ^= 0x01
		return b
	}
	cases := []struct {
		name   string
		module []byte
		cert   []byte
	}{
		{"payload byte flipped", flip(len(payload) / 2), key.CertificateDER()},
		{"signature byte flipped", flip(len(payload) + len(p7) - 5), key.CertificateDER()},
		{"payload appended to", append(append(bytes.Clone(payload), 0), signed[len(payload):]...), key.CertificateDER()},
		{"other certificate", signed, other.CertificateDER()},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cert, err := ParseCertificate(c.cert)
			if err != nil {
				t.Fatal(err)
			}
			if err := Verify(c.module, cert); err == nil {
				t.Error("Verify accepted it")
			} else {
				t.Log(err)
			}
			if opensslVerify(t, c.module, c.cert) == nil {
				t.Error("openssl cms accepted it")
			}
		})
	}
	if err := Verify(moduleBytes(t), key.Certificate()); !errors.Is(err, ErrUnsigned) {
		t.Errorf("unsigned module: %v, want ErrUnsigned", err)
	}
}

// TestSignFileInPlace re-signs a module signed by another key, leaves one
// signed by this key alone, and refuses compressed modules.
func TestSignFileInPlace(t *testing.T) {
	key, other := keys(t)
	dir := t.TempDir()
	ko := filepath.Join(dir, "lib", "modules", "x", "extra", "m.ko")
	if err := os.MkdirAll(filepath.Dir(ko), 0o755); err != nil {
		t.Fatal(err)
	}
	byOther, err := other.Sign(moduleBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ko, byOther, 0o744); err != nil {
		t.Fatal(err)
	}
	signed, err := key.SignTree(dir)
	if err != nil || len(signed) != 1 || signed[0] != "lib/modules/x/extra/m.ko" {
		t.Fatalf("SignTree = %v, %v", signed, err)
	}
	if err := VerifyFile(ko, key.Certificate()); err != nil {
		t.Fatal(err)
	}
	if fi, _ := os.Stat(ko); fi.Mode().Perm() != 0o744 {
		t.Errorf("mode %v, want 0744 kept", fi.Mode())
	}
	if changed, err := key.SignFile(ko); changed || err != nil {
		t.Errorf("signing a module this key signed: changed=%v err=%v", changed, err)
	}
	if err := os.WriteFile(ko+".xz", []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := key.SignTree(dir); err == nil || !strings.Contains(err.Error(), "sign before compression") {
		t.Errorf("compressed module: %v", err)
	}
}

// TestVerifyFileDecompresses verifies modules compressed as the kernel
// loads them, compressed here by the real xz, gzip and zstd tools.
func TestVerifyFileDecompresses(t *testing.T) {
	key, _ := keys(t)
	signed, err := key.Sign(moduleBytes(t))
	if err != nil {
		t.Fatal(err)
	}
	for tool, ext := range map[string]string{"xz": ".xz", "gzip": ".gz", "zstd": ".zst"} {
		testutil.RequireTool(t, tool)
		ko := filepath.Join(t.TempDir(), "m.ko")
		if err := os.WriteFile(ko, signed, 0o644); err != nil {
			t.Fatal(err)
		}
		args := []string{"-q", ko}
		if tool == "xz" {
			args = []string{"-q", "--check=crc32", ko}
		}
		if out, err := exec.Command(tool, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v %s", tool, err, out)
		}
		if tool == "zstd" {
			os.Remove(ko)
		}
		if err := VerifyFile(ko+ext, key.Certificate()); err != nil {
			t.Errorf("%s: %v", tool, err)
		}
	}
}

func TestSplitRejectsMalformed(t *testing.T) {
	key, _ := keys(t)
	signed, err := key.Sign([]byte("\x7fELF not really a module"))
	if err != nil {
		t.Fatal(err)
	}
	info := len(signed) - len(Magic) - sigInfoLen
	mutate := func(at int, v byte) []byte {
		b := bytes.Clone(signed)
		b[at] = v
		return b
	}
	for name, m := range map[string][]byte{
		"only the trailer":   []byte(Magic),
		"id_type 1 (x509)":   mutate(info+2, 1),
		"non-zero padding":   mutate(info+6, 1),
		"sig_len too large":  mutate(info+8, 0x7f),
		"PKCS#7 garbage":     mutate(info-3, 0xff),
		"signer_len set":     mutate(info+3, 4),
		"key_id_len set":     mutate(info+4, 8),
		"truncated at start": signed[len(signed)-len(Magic)-4:],
	} {
		err := Verify(m, key.Certificate())
		if err == nil {
			t.Errorf("%s: accepted", name)
		} else if errors.Is(err, ErrUnsigned) {
			t.Errorf("%s: reported as unsigned", name)
		}
	}
}
