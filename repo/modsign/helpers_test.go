package modsign

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
)

var built struct {
	once sync.Once
	dir  string
	ko   string
	err  string
}

// headersDir returns the host's kernel headers, which carry kbuild's
// scripts/sign-file.
func headersDir(t testing.TB) string {
	t.Helper()
	dirs, _ := filepath.Glob("/usr/src/linux-headers-*-amd64")
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "scripts", "sign-file")); err == nil {
			return d
		}
	}
	testutil.Unavailable(t, "no kernel headers with scripts/sign-file in /usr/src/linux-headers-*-amd64 (run scripts/ensure-tools.sh)")
	return ""
}

// signFileTool returns kbuild's scripts/sign-file.
func signFileTool(t testing.TB) string {
	return filepath.Join(headersDir(t), "scripts", "sign-file")
}

// moduleBytes compiles testdata/signme once per test process and returns a
// fresh copy of the unsigned .ko.
func moduleBytes(t testing.TB) []byte {
	t.Helper()
	testutil.RequireTool(t, "make")
	testutil.RequireTool(t, "gcc")
	headers := headersDir(t)
	b := &built
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "modsign-signme-")
		if err != nil {
			b.err = err.Error()
			return
		}
		b.dir = dir
		for _, f := range []string{"kabiforge_signme.c", "Kbuild"} {
			data, err := os.ReadFile(filepath.Join("testdata", "signme", f))
			if err == nil {
				err = os.WriteFile(filepath.Join(dir, f), data, 0o644)
			}
			if err != nil {
				b.err = err.Error()
				return
			}
		}
		out, err := exec.Command("make", "-C", headers, "M="+dir, "modules").CombinedOutput()
		if err != nil {
			b.err = "make modules: " + err.Error() + "\n" + string(out)
			return
		}
		b.ko = filepath.Join(dir, "kabiforge_signme.ko")
	})
	if b.err != "" {
		t.Fatal(b.err)
	}
	data, err := os.ReadFile(b.ko)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

var testKeys struct {
	once sync.Once
	a, b *Key
	err  error
}

// keys returns two 2048-bit keys, made once per test process.
func keys(t testing.TB) (*Key, *Key) {
	t.Helper()
	k := &testKeys
	k.once.Do(func() {
		if k.a, k.err = Generate("kabiforge test module key", 2048); k.err == nil {
			k.b, k.err = Generate("another module key", 2048)
		}
	})
	if k.err != nil {
		t.Fatal(k.err)
	}
	return k.a, k.b
}

// keyFiles writes k into a temporary directory.
func keyFiles(t testing.TB, k *Key) Files {
	t.Helper()
	f, err := k.WriteFiles(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// opensslVerify checks a signed module with openssl cms against the DER
// certificate certDER, as the independent check does.
func opensslVerify(t *testing.T, module, certDER []byte) error {
	t.Helper()
	testutil.RequireTool(t, "openssl")
	dir := t.TempDir()
	payload, p7, err := Split(module)
	if err != nil {
		t.Fatalf("split: %v", err)
	}
	files := map[string][]byte{"payload": payload, "sig.p7s": p7, "cert.der": certDER}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	run := func(args ...string) error {
		cmd := exec.Command("openssl", args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Logf("openssl %v: %s", args, out)
		}
		return err
	}
	if err := run("x509", "-inform", "DER", "-in", "cert.der", "-out", "cert.pem"); err != nil {
		t.Fatal(err)
	}
	return run("cms", "-verify", "-binary", "-inform", "DER", "-in", "sig.p7s", "-content", "payload",
		"-certfile", "cert.pem", "-nointern", "-noverify", "-out", os.DevNull)
}
