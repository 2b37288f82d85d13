package kftest

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/rpm"
)

// TestCachingBuilderReusesOnlyTheSameBuild: a second build of the same
// source package with the same certificate is the first one's packages,
// byte for byte, without building; another certificate builds again.
func TestCachingBuilderReusesOnlyTheSameBuild(t *testing.T) {
	testutil.RequireTool(t, "rpmbuild")
	srpm, err := demo.SRPM(t.TempDir(), "cached.spec", []byte(testutil.SimpleSpec("cached", "1.0", "1")), nil)
	if err != nil {
		t.Fatal(err)
	}
	var log []string
	c := &CachingBuilder{Builder: &build.Rpmbuild{}, Dir: t.TempDir(),
		Cache: func(p *rpm.Package) bool { return p.NEVRA.Name == "cached" },
		Log:   func(format string, args ...any) { log = append(log, format) }}
	a, b := certOnly(t), certOnly(t)
	run := func(cert []byte) build.Result {
		res, err := c.Build(context.Background(), build.Request{SRPM: srpm, Arch: "x86_64", ResultDir: t.TempDir(),
			ModuleSigning: &build.ModuleSigning{Key: []byte("unused"), Cert: cert, Command: []string{"/bin/true"}}})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.RPMs) != 1 || res.SRPM == "" {
			t.Fatalf("result %+v", res)
		}
		return res
	}
	first, second, other := run(a), run(a), run(b)
	if want := "%s: built in %s,%s: cached build in %s,%s: built in %s"; strings.Join(log, ",") != want {
		t.Errorf("log %q, want %q", log, want)
	}
	x, _ := os.ReadFile(first.RPMs[0])
	y, _ := os.ReadFile(second.RPMs[0])
	if !bytes.Equal(x, y) || filepath.Dir(first.RPMs[0]) == filepath.Dir(second.RPMs[0]) {
		t.Error("the cached build's package differs from the first, or is not in the second build's result dir")
	}
	if _, err := os.Stat(other.RPMs[0]); err != nil {
		t.Error(err)
	}
}

// certOnly is a new key's DER certificate.
func certOnly(t *testing.T) []byte {
	k, err := modsign.Generate("cache key test", 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k.CertificateDER()
}
