package modsign

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Signed is what SignBuildroot signed, relative to the buildroot.
type Signed struct {
	Modules []string
	Images  []string
}

// SignBuildroot signs what a package build installed under root with the
// key in keyPath and certificate in certPath: every .ko (SignTree), and
// every kernel image (boot/vmlinuz-*, lib/modules/*/vmlinuz) that is a
// PE/COFF EFI binary, with sbsign for Secure Boot. It runs inside the
// build, after strip and before the package's files are digested.
func SignBuildroot(ctx context.Context, keyPath, certPath, root string) (Signed, error) {
	key, err := LoadKey(keyPath, certPath)
	if err != nil {
		return Signed{}, err
	}
	var s Signed
	if s.Modules, err = key.SignTree(root); err != nil {
		return s, err
	}
	images, err := kernelImages(root)
	if err != nil {
		return s, err
	}
	if len(images) == 0 {
		return s, nil
	}
	pemCert := filepath.Join(filepath.Dir(keyPath), ".sbsign-cert.pem")
	if err := os.WriteFile(pemCert, key.CertificatePEM(), 0o600); err != nil {
		return s, fmt.Errorf("sign kernel image: %w", err)
	}
	defer os.Remove(pemCert)
	for _, img := range images {
		if err := SBSign(ctx, keyPath, pemCert, filepath.Join(root, img)); err != nil {
			return s, err
		}
		s.Images = append(s.Images, img)
	}
	return s, nil
}

// kernelImages lists the EFI kernel images under root, relative to it.
func kernelImages(root string) ([]string, error) {
	var out []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		dir, name := filepath.Split(filepath.ToSlash(rel))
		isImage := (dir == "boot/" && strings.HasPrefix(name, "vmlinuz-")) ||
			(strings.HasPrefix(dir, "lib/modules/") && strings.Count(dir, "/") == 3 && name == "vmlinuz")
		if isImage && isPE(path) {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// isPE reports whether the file starts like a PE/COFF (EFI stub) image.
func isPE(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 2)
	_, err = f.Read(head)
	return err == nil && bytes.Equal(head, []byte("MZ"))
}

// SBSign signs the EFI image at path in place with sbsign (sbsigntool),
// replacing any signature it has.
func SBSign(ctx context.Context, keyPath, certPEM, path string) error {
	tool, err := exec.LookPath("sbsign")
	if err != nil {
		return fmt.Errorf("sign kernel image %s: sbsign not found (install sbsigntool): %w", path, err)
	}
	tmp := path + ".signed"
	out, err := exec.CommandContext(ctx, tool, "--key", keyPath, "--cert", certPEM, "--output", tmp, path).CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sign kernel image %s: sbsign: %w: %s", path, err, bytes.TrimSpace(out))
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("sign kernel image %s: %w", path, err)
	}
	return nil
}
