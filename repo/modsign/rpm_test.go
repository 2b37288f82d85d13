package modsign

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

// modulesSpec packages the files of dir under /lib/modules/test/extra.
func modulesSpec(dir string, names ...string) string {
	spec := testutil.SimpleSpec("kmod-signtest", "1", "1")
	var install, files strings.Builder
	for _, n := range names {
		install.WriteString("install -D -m 0644 " + filepath.Join(dir, n) + " %{buildroot}/lib/modules/test/extra/" + n + "\n")
		files.WriteString("/lib/modules/test/extra/" + n + "\n")
	}
	spec = strings.Replace(spec, "%install\n", "%install\n"+install.String(), 1)
	return strings.Replace(spec, "%files\n", "%files\n"+files.String(), 1)
}

// TestVerifyPackage packages a signed, a tampered and an unsigned module
// with rpmbuild; VerifyPackage names the two that fail.
func TestVerifyPackage(t *testing.T) {
	key, _ := keys(t)
	module := moduleBytes(t)
	signed, err := key.Sign(module)
	if err != nil {
		t.Fatal(err)
	}
	tampered := bytes.Clone(signed)
	tampered[100] ^= 0xff
	dir := t.TempDir()
	for name, data := range map[string][]byte{"good.ko": signed, "tampered.ko": tampered, "unsigned.ko": module} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// Debian's brp-strip strips every ELF file, .ko included, which drops an
	// appended signature: builds sign after it (SignBuildroot); here the
	// modules come signed, so the brp scripts are off.
	noStrip := []string{"--define", "__os_install_post %{nil}"}
	rpms := testutil.RPMBuild(t, modulesSpec(dir, "good.ko", "tampered.ko", "unsigned.ko"), noStrip...)
	res, err := VerifyPackage(rpms[0], key.Certificate())
	if err != nil {
		t.Fatal(err)
	}
	if res.Modules != 3 || len(res.Problems) != 2 ||
		!strings.HasPrefix(res.Problems[0], "/lib/modules/test/extra/tampered.ko: ") ||
		!strings.Contains(res.Problems[1], "unsigned.ko: module is not signed") {
		t.Errorf("VerifyPackage = %+v", res)
	}

	good := testutil.RPMBuild(t, modulesSpec(dir, "good.ko"), noStrip...)
	if res, err := VerifyPackage(good[0], key.Certificate()); err != nil || res.Modules != 1 || len(res.Problems) != 0 {
		t.Errorf("a package of one signed module: %+v, %v", res, err)
	}
}
