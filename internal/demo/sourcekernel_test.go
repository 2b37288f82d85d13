//go:build sourcekernel

package demo_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/kernelfamily/kftest"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// TestSourceKernelPackages compiles Debian's linux-source-6.1 through the
// rpmbuild builder with the module-signing key as the pipeline passes it
// (cached between runs) and checks the packages with rpm's and the shell's
// tools: the configuration has module versions and signatures on and the
// certificate of the build as its trusted key file; kernel-core provides
// kernel(sym) = 0xCRC for exactly the vmlinux rows of its symvers.gz; no
// package holds the private key.
func TestSourceKernelPackages(t *testing.T) {
	for _, tool := range []string{"rpm", "rpm2cpio", "cpio", "gzip", "awk"} {
		testutil.RequireTool(t, tool)
	}
	k := kftest.SourceKernel(t)
	key := kftest.ModuleKey(t)
	rpms, srpm := kftest.SourceKernelRPMs(t, k, key)
	pkg := byName(t, rpms, "kernel-core", "kernel-devel") // no in-tree modules
	kver := k.NVR(".el8") + ".x86_64"
	root := t.TempDir()
	for _, name := range []string{"kernel-core", "kernel-devel"} {
		if pkg[name] == "" {
			t.Fatalf("no %s in %v", name, rpms)
		}
		unpackInto(t, pkg[name], root)
	}
	config, err := os.ReadFile(filepath.Join(root, "lib/modules", kver, "config"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"CONFIG_MODULES=y", "CONFIG_MODVERSIONS=y", "CONFIG_MODULE_SIG=y", "CONFIG_MODULE_SIG_SHA256=y",
		"CONFIG_SYSTEM_TRUSTED_KEYRING=y", `CONFIG_SYSTEM_TRUSTED_KEYS="certs/kabiforge-trusted.pem"`, `CONFIG_MODULE_SIG_KEY=""`,
		"# CONFIG_MODULE_SIG_FORCE is not set", `CONFIG_LOCALVERSION="-` + k.Release + `.el8.x86_64"`} {
		if !bytes.Contains(config, []byte("\n"+want+"\n")) {
			t.Errorf("kernel config lacks %q", want)
		}
	}

	symvers := filepath.Join(root, "lib/modules", kver, "symvers.gz")
	rows, err := exec.Command("sh", "-c", `gzip -dc "$1" | awk -F'\t' '$3 == "vmlinux" { print "kernel(" $2 ") = " $1 }' | sort -u`, "sh", symvers).Output()
	if err != nil {
		t.Fatal(err)
	}
	var provides []string
	for _, l := range rpmQuery(t, "--provides", pkg["kernel-core"]) {
		if strings.HasPrefix(l, "kernel(") {
			provides = append(provides, l)
		}
	}
	sort.Strings(provides)
	if want := strings.TrimSpace(string(rows)); len(provides) < 100 || strings.Join(provides, "\n") != want {
		t.Errorf("kernel-core provides %d kernel() symbols; symvers.gz has %d vmlinux rows", len(provides), strings.Count(want, "\n")+1)
	}
	t.Logf("%s: %d exported symbols with CRCs", kver, len(provides))

	// The private key is in no package; the certificate only in the
	// kernel (compiled in), never in the source package.
	priv, err := key.PrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.Split(string(priv), "\n")[2]
	for _, p := range append(rpms, srpm) {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(data, []byte(secret)) || bytes.Contains(data, []byte("PRIVATE KEY")) {
			t.Errorf("%s holds private key material", filepath.Base(p))
		}
		if p == srpm && bytes.Contains(data, key.CertificateDER()) {
			t.Errorf("%s holds the certificate: it must come from the build", filepath.Base(p))
		}
	}
}

// TestSourceKernelNeedsTheBuildsCertificate: without the build's module
// signing there is no certificate to trust, and the build says so before
// compiling anything.
func TestSourceKernelNeedsTheBuildsCertificate(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	k := kftest.SourceKernel(t)
	src := kftest.SourceKernelSRPM(t, k)
	_, err := kftest.SourceKernelBuilder(t).Build(context.Background(), build.Request{SRPM: src, Arch: "x86_64", ResultDir: t.TempDir()})
	var pe *build.PackageError
	if !errors.As(err, &pe) || !strings.Contains(strings.Join(pe.Tail, "\n"), "no module-signing certificate (%pubkey)") {
		t.Fatalf("build without module signing: %v, want a package error naming the missing certificate", err)
	}
}

// unpackInto extracts an RPM's payload under root.
func unpackInto(t *testing.T, rpmPath, root string) {
	t.Helper()
	cmd := exec.Command("sh", "-c", `rpm2cpio "$1" | cpio -idm --quiet`, "sh", rpmPath)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("unpack %s: %v\n%s", rpmPath, err, out)
	}
}
