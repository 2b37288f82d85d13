package workflows_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/modsign/modsigntest"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/workflows"
)

// tamperingBuilder builds with its Builder; once armed, the next build of
// kmod-<Kmod> signs its modules with modsigntest's tampering signer, which
// changes each module after signing it (the package's digests cover the
// changed bytes, so only the module signature tells).
type tamperingBuilder struct {
	build.Builder
	Kmod  string
	armed atomic.Bool
}

func (b *tamperingBuilder) Build(ctx context.Context, req build.Request) (build.Result, error) {
	if req.ModuleSigning != nil && strings.HasPrefix(filepath.Base(req.SRPM), "kmod-"+b.Kmod+"-") && b.armed.CompareAndSwap(true, false) {
		ms := *req.ModuleSigning
		ms.Command = modsigntest.TamperCommand()
		req.ModuleSigning = &ms
	}
	return b.Builder.Build(ctx, req)
}

// checkTamperedRefused waits for kernel vr, whose first kmod build was
// tampered with, to stop at the gate: pre-publish verification marked that
// kmod failed for its module signature, the gate holds for it and nothing
// of vr is published (the repository's repomd.xml is still before, nil
// for none). Then
// the kmod is retried, built cleanly, and the rebuild goes on.
func (p *livePipeline) checkTamperedRefused(vr string, before []byte) {
	t := p.t
	t.Helper()
	s := p.waitStage(vr, pipeline.StageAwaitingApproval)
	var failed []string
	for name, u := range s.Kmods {
		if u.State == pipeline.StateFailed {
			failed = append(failed, name)
			if !strings.Contains(u.Reason, "module signature (x86_64)") || !strings.Contains(u.Reason, name+".ko") {
				t.Errorf("%s: tampered kmod %s failed for %q, want its module signature", vr, name, u.Reason)
			}
		}
	}
	if !slices.Equal(failed, []string{p.tamper.Kmod}) || len(s.Gate) != 1 || !strings.Contains(s.Gate[0], p.tamper.Kmod) {
		t.Fatalf("%s at the gate: failed %v, gate %q; want the tampered kmod %s", vr, failed, s.Gate, p.tamper.Kmod)
	}
	if got, _ := os.ReadFile(filepath.Join(p.repoDir, "repodata", "repomd.xml")); !bytes.Equal(got, before) {
		t.Errorf("%s: the repository changed while the gate held", vr)
	}
	if pkgs := p.publishedPackages("kernel-core-uname-r", vr+".x86_64"); len(pkgs) != 0 {
		t.Errorf("%s: published %v while the gate held", vr, pkgs)
	}
	t.Logf("%s: tampered %s refused before publishing (%s); retrying it", vr, failed[0], s.Kmods[failed[0]].Reason)
	if err := workflows.RetryKmod(context.Background(), p.c, vr, failed[0]); err != nil {
		t.Fatal(err)
	}
}

// checkRealSecureBoot checks, with outside tools only, what a machine
// installing from the repository gets: the certificate from the installed
// <name>-release (openssl reads it and its CN); every .ko of every
// published kmod package, and a sample of kernel vr's in-tree modules, has
// `modinfo -F signer` = that CN and a PKCS#7 signature, cut out as the
// kernel does, that `openssl cms -verify` accepts over the module against
// that certificate; every in-tree module of vr names the signer (modinfo,
// one call); and sbverify accepts every published kernel image with it.
func (p *livePipeline) checkRealSecureBoot(installroot, vr, dir string) {
	t := p.t
	t.Helper()
	for _, tool := range []string{"openssl", "modinfo", "sbverify"} {
		testutil.RequireTool(t, tool)
	}
	der := filepath.Join(installroot, publish.InstalledModuleCert(repoName))
	cert := filepath.Join(dir, "cert.pem")
	shell(t, `openssl x509 -inform DER -in "$1" -out "$2"`, der, cert)
	cn := strings.TrimSpace(shell(t, `openssl x509 -in "$1" -noout -subject -nameopt RFC2253 | sed -n 's/^subject=.*CN=\([^,]*\).*/\1/p'`, cert))
	if cn == "" {
		t.Fatalf("no CN in the certificate from %s-release", repoName)
	}
	var kos []string
	kmods, _ := filepath.Glob(filepath.Join(p.repoDir, "Packages", "*", "kmod-*.rpm"))
	for i, rpm := range kmods {
		kos = append(kos, extractKos(t, rpm, filepath.Join(dir, fmt.Sprint("kmod", i)))...)
	}
	if len(kos) < len(kmods) || len(kmods) < 3 {
		t.Fatalf("%d modules in %d published kmod packages", len(kos), len(kmods))
	}
	modules := p.publishedPackages("kernel-modules-uname-r", vr+".x86_64")["kernel-modules"]
	inTree := extractKos(t, modules, filepath.Join(dir, "kernel-modules"))
	if len(inTree) < 100 {
		t.Fatalf("%d modules in %s's kernel-modules", len(inTree), vr)
	}
	signers := strings.Fields(shell(t, `modinfo -F signer "$@" | tr ' ' '_'`, inTree...))
	if want := strings.ReplaceAll(cn, " ", "_"); len(signers) != len(inTree) || slices.ContainsFunc(signers, func(s string) bool { return s != want }) {
		t.Errorf("modinfo -F signer over %d in-tree modules of %s: %d signers, not all %q", len(inTree), vr, len(signers), cn)
	}
	sample := []string{inTree[0], inTree[len(inTree)/2], inTree[len(inTree)-1]}
	for _, ko := range append(kos, sample...) {
		if signer := strings.TrimSpace(shell(t, `modinfo -F signer "$1"`, ko)); signer != cn {
			t.Errorf("%s: modinfo -F signer %q, want %q", ko, signer, cn)
		}
		if err := opensslVerifyModule(ko, cert); err != nil {
			t.Errorf("%s: %v", ko, err)
		}
	}
	cores, _ := filepath.Glob(filepath.Join(p.repoDir, "Packages", "*", "kernel-core-*.rpm"))
	for i, rpm := range cores {
		img := filepath.Join(dir, fmt.Sprint("vmlinuz", i))
		shell(t, `rpm2cpio "$1" | cpio -i --quiet --to-stdout '*/vmlinuz' > "$2"`, rpm, img)
		if out, err := exec.Command("sbverify", "--cert", cert, img).CombinedOutput(); err != nil {
			t.Errorf("sbverify --cert: the vmlinuz of %s: %v\n%s", filepath.Base(rpm), err, out)
		}
	}
	if len(cores) == 0 {
		t.Error("no kernel-core published")
	}
	t.Logf("Secure Boot: %d kmod modules and %d of %d in-tree modules of %s verified with openssl cms, all %d named %q by modinfo; the vmlinuz of %d kernels accepted by sbverify",
		len(kos), len(sample), len(inTree), vr, len(inTree), cn, len(cores))
}

// extractKos unpacks the .ko files of an RPM into dir with rpm2cpio and
// cpio and returns their paths.
func extractKos(t *testing.T, rpm, dir string) []string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	out := shell(t, `cd "$2" && rpm2cpio "$1" | cpio -idm --quiet '*.ko' && find "$PWD" -name '*.ko' | sort`, rpm, dir)
	return strings.Fields(out)
}

// opensslVerifyModule cuts a module's appended signature out as the kernel
// reads it (the magic string last, before it the 12-byte module_signature
// whose last 4 bytes are the big-endian length of the PKCS#7 blob before
// it) and has openssl cms verify the blob over the rest against cert.
func opensslVerifyModule(ko, cert string) error {
	data, err := os.ReadFile(ko)
	if err != nil {
		return err
	}
	const magic = "~Module signature appended~\n"
	if !bytes.HasSuffix(data, []byte(magic)) {
		return fmt.Errorf("no appended signature")
	}
	end := len(data) - len(magic) - 12
	n := int(binary.BigEndian.Uint32(data[end+8 : end+12]))
	if n <= 0 || n > end {
		return fmt.Errorf("signature length %d", n)
	}
	dir, err := os.MkdirTemp("", "modsig-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	sig, payload := filepath.Join(dir, "sig.p7s"), filepath.Join(dir, "payload")
	if err := os.WriteFile(sig, data[end-n:end], 0o600); err != nil {
		return err
	}
	if err := os.WriteFile(payload, data[:end-n], 0o600); err != nil {
		return err
	}
	out, err := exec.Command("openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", sig, "-content", payload,
		"-certfile", cert, "-nointern", "-noverify", "-out", os.DevNull).CombinedOutput()
	if err != nil {
		return fmt.Errorf("openssl cms -verify: %v\n%s", err, out)
	}
	return nil
}
