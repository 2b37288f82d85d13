package modsign

import (
	"crypto/x509"
	"fmt"
	"io"
	"path/filepath"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// PackageResult is what VerifyPackage found in one package.
type PackageResult struct {
	// Modules counts the kernel modules in the payload.
	Modules int
	// Problems names each module that does not verify, and why.
	Problems []string
}

// VerifyPackage checks every kernel module in the RPM at path against
// cert. A module that fails is a Problem; err is for a package that cannot
// be read at all.
func VerifyPackage(path string, cert *x509.Certificate) (PackageResult, error) {
	var res PackageResult
	p, err := rpm.Open(path)
	if err != nil {
		return res, fmt.Errorf("verify modules in %s: %w", filepath.Base(path), err)
	}
	err = p.WalkPayload(func(f rpm.File, r io.Reader) error {
		if !IsModule(f.Path) {
			return nil
		}
		res.Modules++
		data, err := ReadModule(f.Path, r)
		if err == nil {
			err = Verify(data, cert)
		}
		if err != nil {
			res.Problems = append(res.Problems, f.Path+": "+err.Error())
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("verify modules in %s: %w", filepath.Base(path), err)
	}
	return res, nil
}
