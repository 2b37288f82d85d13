package modsign

import (
	"compress/gzip"
	"crypto/x509"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

// maxModule bounds how much of one module is read (the largest in-tree
// modules are tens of MB).
const maxModule = 512 << 20

// compressed lists the module compressions the kernel loads (CONFIG_MODULE_COMPRESS_*).
var compressed = []string{".ko.xz", ".ko.gz", ".ko.zst"}

// IsModule reports whether name is a kernel module file, compressed or not.
func IsModule(name string) bool {
	if strings.HasSuffix(name, ".ko") {
		return true
	}
	for _, s := range compressed {
		if strings.HasSuffix(name, s) {
			return true
		}
	}
	return false
}

// ReadModule returns the module in name's content, decompressed by its
// suffix (.ko.xz, .ko.gz, .ko.zst), as the kernel sees it.
func ReadModule(name string, r io.Reader) ([]byte, error) {
	var err error
	switch {
	case strings.HasSuffix(name, ".ko.xz"):
		r, err = xz.NewReader(r)
	case strings.HasSuffix(name, ".ko.gz"):
		r, err = gzip.NewReader(r)
	case strings.HasSuffix(name, ".ko.zst"):
		var d *zstd.Decoder
		if d, err = zstd.NewReader(r, zstd.WithDecoderConcurrency(1)); err == nil {
			defer d.Close()
			r = d
		}
	}
	if err != nil {
		return nil, fmt.Errorf("module %s: decompress: %w", name, err)
	}
	data, err := io.ReadAll(io.LimitReader(r, maxModule+1))
	if err != nil {
		return nil, fmt.Errorf("module %s: read: %w", name, err)
	}
	if len(data) > maxModule {
		return nil, fmt.Errorf("module %s: larger than %d bytes", name, maxModule)
	}
	return data, nil
}

// VerifyFile verifies the module file at path against cert.
func VerifyFile(path string, cert *x509.Certificate) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("verify module: %w", err)
	}
	defer f.Close()
	data, err := ReadModule(path, f)
	if err != nil {
		return err
	}
	if err := Verify(data, cert); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// SignFile signs the uncompressed module at path in place (through a
// temporary file and a rename, keeping its mode). A module already signed
// by k is left as it is; one signed by another key is re-signed by k.
// It reports whether the file changed.
func (k *Key) SignFile(path string) (bool, error) {
	for _, s := range compressed {
		if strings.HasSuffix(path, s) {
			return false, fmt.Errorf("module %s is compressed: sign before compression", path)
		}
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return false, fmt.Errorf("sign module: %w", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("sign module: %w", err)
	}
	if Verify(data, k.cert) == nil {
		return false, nil
	}
	if data, err = Strip(data); err != nil {
		return false, fmt.Errorf("sign module %s: existing signature: %w", path, err)
	}
	signed, err := k.Sign(data)
	if err != nil {
		return false, fmt.Errorf("sign module %s: %w", path, err)
	}
	return true, writeReplace(path, signed, fi.Mode().Perm())
}

// SignTree signs every regular .ko file under root (a build's buildroot)
// and returns the paths it signed, relative to root. A compressed module
// is an error: modules are signed after strip and before compression.
func (k *Key) SignTree(root string) ([]string, error) {
	var signed []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() || !IsModule(d.Name()) {
			return nil
		}
		if _, err := k.SignFile(path); err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		signed = append(signed, rel)
		return nil
	})
	if err != nil {
		return signed, fmt.Errorf("sign modules under %s: %w", root, err)
	}
	return signed, nil
}

// writeReplace replaces path with data through a temporary file in the same
// directory.
func writeReplace(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".sign*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	_, err = tmp.Write(data)
	if err == nil {
		err = tmp.Chmod(perm)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
