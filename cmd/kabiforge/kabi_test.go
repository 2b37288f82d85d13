package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// runKabi runs `kabiforge kabi args...` in process and returns its output
// (with the error, if any, as a last line) and exit code.
func runKabi(t *testing.T, args ...string) (string, int) {
	t.Helper()
	out, err := runInProcess(t, append([]string{"kabi"}, args...)...)
	if err != nil {
		out += "error: " + err.Error() + "\n"
	}
	return out, exitCode(err)
}

func c8List(t *testing.T, nvr string) string {
	return testutil.SharedData(t, "kabi", "centos-git", "c8", nvr, "Module.kabi_x86_64")
}

func TestKabiDiffReportsTheRadixTreeRemovalAndExits1(t *testing.T) {
	out, code := runKabi(t, "diff", c8List(t, "4.18.0-80.el8"), c8List(t, "4.18.0-80.1.2.el8_0"))
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	for _, want := range []string{"BREAK: 8 symbols removed or changed, 8 of them stablelisted",
		"removed: 8 (8 stablelisted)", "stablelist  radix_tree_preload"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

func TestKabiDiffJSONOfAdditionsOnlyExits0(t *testing.T) {
	out, code := runKabi(t, "diff", "--json", c8List(t, "4.18.0-80.1.2.el8_0"), c8List(t, "4.18.0-147.el8"))
	if code != 0 {
		t.Fatalf("exit %d, want 0:\n%s", code, out)
	}
	var d kabi.Delta
	if err := json.Unmarshal([]byte(out), &d); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, out)
	}
	if !strings.Contains(out, `"crc": "0x`) || !strings.Contains(out, `"removed": []`) {
		t.Errorf("CRCs are not 0x strings or empty lists are not []:\n%.400s", out)
	}
	if len(d.Added) != 52 || len(d.Removed)+len(d.CRCChanged) != 0 || !d.Added[0].Stablelisted {
		t.Errorf("added %d, removed %d, changed %d", len(d.Added), len(d.Removed), len(d.CRCChanged))
	}
}

func TestKabiCheckSymversKmodAgainstAKernelWithStablelist(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "Module.symvers")
	writeKabiFile(t, kernel, "0x844c8938\tmisc_register\tvmlinux\tEXPORT_SYMBOL\t\n"+
		"0x00000002\tgrey_sym\tvmlinux\tEXPORT_SYMBOL_GPL\t\n0x00000003\tok_sym\tvmlinux\tEXPORT_SYMBOL\t\n")
	list := filepath.Join(dir, "kabi_stablelist_x86_64")
	writeKabiFile(t, list, "[rhel9_x86_64_stablelist]\n\tmisc_register\n\tok_sym\n")
	good := filepath.Join(dir, "good.symvers")
	writeKabiFile(t, good, "0x00000003\tok_sym\tvmlinux\tEXPORT_SYMBOL\n")
	bad := filepath.Join(dir, "bad.symvers")
	writeKabiFile(t, bad, "0x00000009\tgrey_sym\tvmlinux\tEXPORT_SYMBOL\n0x00000001\tmisc_register\tvmlinux\tEXPORT_SYMBOL\n0x1\tgone\tvmlinux\tEXPORT_SYMBOL\n")

	out, code := runKabi(t, "check", "--stablelist", list, kernel, good)
	if code != 0 || !strings.Contains(out, "0 of 1 kmods broken") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	out, code = runKabi(t, "check", "--stablelist", list, kernel, good, bad)
	if code != 1 {
		t.Fatalf("exit %d, want 1:\n%s", code, out)
	}
	// The stablelisted break comes first, then the greylist ones.
	i1 := strings.Index(out, "stablelist  mismatched  misc_register  want 0x00000001, kernel has 0x844c8938")
	i2 := strings.Index(out, "greylist    mismatched  grey_sym")
	i3 := strings.Index(out, "greylist    missing     gone")
	if i1 < 0 || i2 < i1 || i3 < i2 || !strings.Contains(out, "1 of 2 kmods broken") {
		t.Errorf("breaks not listed stablelisted first:\n%s", out)
	}
	out, code = runKabi(t, "check", "--json", "--stablelist", list, kernel, bad)
	var rep checkReport
	if err := json.Unmarshal([]byte(strings.SplitN(out, "error:", 2)[0]), &rep); err != nil || code != 1 {
		t.Fatalf("exit %d, JSON %v:\n%s", code, err, out)
	}
	if rep.Compatible || rep.Stablelist != 2 || rep.Kmods[0].StablelistedBreaks() != 1 || len(rep.Kmods[0].Missing) != 1 {
		t.Errorf("report = %+v", rep)
	}
}

func TestKabiBadInputExits2WithFileAndLine(t *testing.T) {
	dir := t.TempDir()
	broken := filepath.Join(dir, "Module.symvers")
	writeKabiFile(t, broken, "0x1\tok\tvmlinux\tEXPORT_SYMBOL\nnot a row\n")
	cases := [][]string{
		{"diff", broken, c8List(t, "4.18.0-80.el8")},
		{"diff", c8List(t, "4.18.0-80.el8")},
		{"check", c8List(t, "4.18.0-80.el8"), filepath.Join(dir, "missing")},
		{"check", "--stablelist", broken, c8List(t, "4.18.0-80.el8"), c8List(t, "4.18.0-80.el8")},
	}
	for _, args := range cases {
		out, code := runKabi(t, args...)
		if code != 2 {
			t.Errorf("%v: exit %d, want 2:\n%s", args, code, out)
		}
	}
	out, _ := runKabi(t, cases[0]...)
	if !strings.Contains(out, broken+":2: want 4 or 5 TAB-separated columns") {
		t.Errorf("error does not name file and line:\n%s", out)
	}
}

func writeKabiFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// kabiTestSpec builds kernel-core, providing three kernel(sym) = 0xCRC, and
// two kmods requiring them: kmod-ok with the same CRCs, kmod-bad with
// misc_register built against another CRC.
const kabiTestSpec = `Name: kabi-cli-test
Version: 1.0
Release: 1%{?dist}
Summary: kabi CLI test packages
License: MIT
AutoReqProv: no

%description
Test packages.

%package -n kernel-core
Summary: synthetic kernel-core
Provides: kernel(misc_register) = 0x844c8938
Provides: kernel(kfree) = 0x037a0cba
Provides: kernel(grey_sym) = 0x00000002

%description -n kernel-core
Synthetic.

%package -n kmod-ok
Summary: compatible kmod
Requires: kernel(misc_register) = 0x844c8938
Requires: kernel(kfree) = 0x037a0cba

%description -n kmod-ok
Compatible.

%package -n kmod-bad
Summary: broken kmod
Requires: kernel(misc_register) = 0x11111111
Requires: kernel(grey_sym) = 0x00000002

%description -n kmod-bad
Broken.

%install
mkdir -p %{buildroot}/usr/share/kabi-cli-test
for p in core ok bad; do echo $p > %{buildroot}/usr/share/kabi-cli-test/$p; done

%files -n kernel-core
/usr/share/kabi-cli-test/core

%files -n kmod-ok
/usr/share/kabi-cli-test/ok

%files -n kmod-bad
/usr/share/kabi-cli-test/bad
`

func TestKabiCheckReadsRPMsAndDirectoriesOfRPMs(t *testing.T) {
	rpms := testutil.RPMBuild(t, kabiTestSpec)
	dir := t.TempDir()
	var core, ok string
	for _, p := range rpms {
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		dst := filepath.Join(dir, filepath.Base(p))
		writeKabiFile(t, dst, string(data))
		switch {
		case strings.HasPrefix(filepath.Base(p), "kernel-core-"):
			core = dst
		case strings.HasPrefix(filepath.Base(p), "kmod-ok-"):
			ok = dst
		}
	}
	list := filepath.Join(t.TempDir(), "kabi_stablelist_x86_64")
	writeKabiFile(t, list, "[rhel8_x86_64_stablelist]\n\tmisc_register\n\tkfree\n")

	out, code := runKabi(t, "check", "--stablelist", list, core, ok)
	if code != 0 || !strings.Contains(out, "ok kmod-ok-1.0-1.el8") {
		t.Errorf("kmod-ok: exit %d\n%s", code, out)
	}
	// The directory holds kernel-core too; only the kmods are checked.
	out, code = runKabi(t, "check", "--stablelist", list, core, dir)
	if code != 1 || !strings.Contains(out, "1 of 2 kmods broken") ||
		!strings.Contains(out, "stablelist  mismatched  misc_register  want 0x11111111, kernel has 0x844c8938") {
		t.Errorf("directory: exit %d\n%s", code, out)
	}
	// A kmod RPM is no kernel.
	if out, code := runKabi(t, "check", ok, ok); code != 2 || !strings.Contains(out, "not a kernel package") {
		t.Errorf("kmod as kernel: exit %d\n%s", code, out)
	}
	// The RHEL 8.8 list against the synthetic kernel-core (CRCs of Debian's
	// 6.1): 754 listed symbols are not provided, misc_register's CRC differs,
	// kfree's is the same, grey_sym is new.
	out, code = runKabi(t, "diff", "--json", c8List(t, "4.18.0-477.10.1.el8_8"), core)
	var d kabi.Delta
	if err := json.Unmarshal([]byte(strings.SplitN(out, "error:", 2)[0]), &d); err != nil || code != 1 {
		t.Fatalf("exit %d, %v\n%s", code, err, out)
	}
	if len(d.Removed) != 754 || len(d.Added) != 1 || len(d.CRCChanged) != 1 || d.CRCChanged[0].Name != "misc_register" {
		t.Errorf("diff: -%d +%d ~%d", len(d.Removed), len(d.Added), len(d.CRCChanged))
	}
}
