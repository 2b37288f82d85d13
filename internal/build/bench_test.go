package build

import (
	"context"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/internal/demo"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// The builder's cost next to what a user would run by hand: rpmbuild
// --rebuild of the same kmod SRPM against an unpacked kernel-devel. The
// builder adds unpacking the SRPM, rebuilding it from its spec, resolving
// BuildRequires from the repository and unpacking kernel-devel.
func BenchmarkKmodBuild(b *testing.B) {
	testutil.RequireTool(b, "rpmbuild")
	srpm, err := demo.KmodSRPM(b.TempDir(), demo.Kmods(kernelA)[1])
	if err != nil {
		b.Fatal(err)
	}
	kernelSRPM, err := demo.KernelSRPM(b.TempDir(), demo.BaseKernel())
	if err != nil {
		b.Fatal(err)
	}
	repo := b.TempDir()
	if _, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: kernelSRPM, ResultDir: repo}); err != nil {
		b.Fatal(err)
	}
	devel := b.TempDir()
	kdevel, err := onlyFile(filepath.Join(repo, "kernel-devel-*.rpm"))
	if err != nil {
		b.Fatal(err)
	}
	if err := unpackRPM(context.Background(), newLogSink(nil, nil), kdevel, devel); err != nil {
		b.Fatal(err)
	}
	b.Run("kabiforge-rpmbuild-builder", func(b *testing.B) {
		for b.Loop() {
			_, err := new(Rpmbuild).Build(context.Background(), Request{SRPM: srpm, Arch: "x86_64",
				ResultDir: b.TempDir(), Repos: []Repo{{Name: "kernel", URL: repo}}})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("rpmbuild-rebuild", func(b *testing.B) {
		for b.Loop() {
			top := b.TempDir()
			out, err := exec.Command("rpmbuild", "--rebuild", "--nodeps", "--target", "x86_64",
				"--define", "_topdir "+top, "--define", "_tmppath "+top, "--define", "dist .el8",
				"--define", "_binary_payload w2.xzdio", "--define", "debug_package %{nil}",
				"--define", KernelDevelRootMacro+" "+devel, srpm).CombinedOutput()
			if err != nil {
				b.Fatalf("%v\n%s", err, out)
			}
		}
	})
}
