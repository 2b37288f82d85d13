package build

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/modsign/modsigntest"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// kmodSpec installs a module; with --with modsign it first signs it the
// way ELRepo's specs do, with sign-file and the privkey/pubkey macros.
const kmodSpec = `Name: kmod-signtest
Version: 1
Release: 1
Summary: module signing test
License: GPL
AutoReqProv: no
Source0: signtest.ko

%description
A kmod whose module the build signs.

%install
install -D -m 0644 %{SOURCE0} %{buildroot}/lib/modules/6.1.0-test/extra/signtest/signtest.ko
%if %{?_with_modsign:1}%{!?_with_modsign:0}
SIGNFILE
%endif

%files
/lib/modules/6.1.0-test/extra/signtest/signtest.ko
`

func TestRpmbuildSignsModules(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	key, err := modsign.Generate("kabiforge build test", 2048)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := key.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	ms := &ModuleSigning{Key: priv, Cert: key.CertificateDER(), Command: modsigntest.Command()}
	module := []byte("\x7fELF a module body")
	signFiles, _ := filepath.Glob("/usr/src/linux-headers-*-amd64/scripts/sign-file")
	for _, c := range []struct{ name, signFile string }{
		{"hook only", ":"},
		{"ELRepo --with modsign", "for m in $(find %{buildroot} -name '*.ko'); do SF sha256 %{privkey} %{pubkey} $m; done"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if strings.Contains(c.signFile, "SF") {
				if len(signFiles) == 0 {
					testutil.Unavailable(t, "no scripts/sign-file in /usr/src/linux-headers-*-amd64")
				}
				c.signFile = strings.ReplaceAll(c.signFile, "SF", signFiles[0])
			}
			spec := strings.Replace(kmodSpec, "SIGNFILE", c.signFile, 1)
			srpm, err := demo.SRPM(t.TempDir(), "kmod-signtest.spec", []byte(spec), map[string][]byte{"signtest.ko": module})
			if err != nil {
				t.Fatal(err)
			}
			work := t.TempDir()
			res, err := (&Rpmbuild{WorkDir: work}).Build(context.Background(), Request{SRPM: srpm, Arch: "x86_64",
				ResultDir: t.TempDir(), ModuleSigning: ms})
			if err != nil {
				t.Fatal(err)
			}
			checkSignedRPM(t, res.RPMs[0], key, module)
			assertNoKey(t, priv, append(append([]string{res.SRPM}, res.RPMs...), res.Logs...)...)
			if left, _ := os.ReadDir(work); len(left) != 0 {
				t.Errorf("the build left %d entries in its work dir (the key must go with it)", len(left))
			}
		})
	}
}

// checkSignedRPM checks the packaged module: it verifies, carries one
// signature over the original module, and its digest in the header
// (rpm -qp --dump, the real tool) is that of the signed file.
func checkSignedRPM(t *testing.T, path string, key *modsign.Key, module []byte) {
	t.Helper()
	res, err := modsign.VerifyPackage(path, key.Certificate())
	if err != nil || res.Modules != 1 || len(res.Problems) != 0 {
		t.Fatalf("VerifyPackage: %+v %v", res, err)
	}
	p, err := rpm.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var sum string
	err = p.WalkPayload(func(f rpm.File, r io.Reader) error {
		data, err := io.ReadAll(r)
		if payload, _, err := modsign.Split(data); err != nil || !bytes.Equal(payload, module) {
			t.Errorf("packaged module is not the original signed once: %v", err)
		}
		h := sha256.Sum256(data)
		sum = hex.EncodeToString(h[:])
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("rpm", "-qp", "--dump", path).Output()
	if err != nil {
		t.Fatal(err)
	}
	if f := strings.Fields(string(out)); len(f) < 4 || f[3] != sum {
		t.Errorf("rpm's file digest %q, packaged content %s", out, sum)
	}
}

// assertNoKey fails when any file holds the private key or a line of its
// base64 body.
func assertNoKey(t *testing.T, priv []byte, files ...string) {
	t.Helper()
	var needles [][]byte
	for _, l := range bytes.Split(priv, []byte("\n")) {
		if len(l) >= 40 && !bytes.HasPrefix(l, []byte("-----")) {
			needles = append(needles, l)
		}
	}
	for _, f := range files {
		filepath.WalkDir(f, func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			for _, n := range needles {
				if bytes.Contains(data, n) {
					t.Errorf("%s holds private key material", path)
					return nil
				}
			}
			return nil
		})
	}
}
