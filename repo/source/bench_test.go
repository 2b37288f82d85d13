package source

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/testutil"
)

// benchRepo writes an rpm-md repository whose primary lists n kernel
// SRPMs, the size of a RHEL SRPMS repository's kernel history and more.
func benchRepo(b *testing.B, n int) string {
	b.Helper()
	var doc bytes.Buffer
	fmt.Fprintf(&doc, `<?xml version="1.0" encoding="UTF-8"?>
<metadata xmlns="http://linux.duke.edu/metadata/common" xmlns:rpm="http://linux.duke.edu/metadata/rpm" packages="%d">
`, n)
	for i := range n {
		fmt.Fprintf(&doc, `<package type="rpm">
  <name>kernel</name>
  <arch>src</arch>
  <version epoch="0" ver="4.18.0" rel="%d.%d.1.el8_%d"/>
  <checksum type="sha256" pkgid="YES">%064x</checksum>
  <summary>The Linux kernel</summary>
  <description>The kernel meta package</description>
  <packager>Red Hat, Inc.</packager>
  <url>https://www.kernel.org/</url>
  <time file="1700000000" build="1700000000"/>
  <size package="138412032" installed="138000000" archive="138100000"/>
  <location href="Packages/k/kernel-4.18.0-%d.%d.1.el8_%d.src.rpm"/>
  <format>
    <rpm:license>GPLv2 and Redistributable, no modification permitted</rpm:license>
    <rpm:vendor>Red Hat, Inc.</rpm:vendor>
    <rpm:group>System Environment/Kernel</rpm:group>
    <rpm:buildhost>x86-vm-07.build.eng.bos.redhat.com</rpm:buildhost>
    <rpm:sourcerpm/>
    <rpm:header-range start="4504" end="61000"/>
    <rpm:requires>
      <rpm:entry name="bc"/>
      <rpm:entry name="bison"/>
      <rpm:entry name="gcc"/>
      <rpm:entry name="openssl-devel"/>
    </rpm:requires>
  </format>
</package>
`, 80+i/20, i%20, i%11, i, 80+i/20, i%20, i%11)
	}
	doc.WriteString("</metadata>\n")
	dir := b.TempDir()
	writeRepo(b, dir, doc.Bytes())
	return dir
}

// BenchmarkListRPMMD lists a 3,000-SRPM repository from scratch; the dnf
// sub-benchmark runs `dnf repoquery` over the same repository, the query a
// user would run to see the same list.
func BenchmarkListRPMMD(b *testing.B) {
	dir := benchRepo(b, 3000)
	b.Run("kabiforge", func(b *testing.B) {
		for b.Loop() {
			src := newSource(b, config.Source{Name: "bench", Kind: config.SourceRPMMD, URL: "file://" + dir}, Options{})
			if got := len(list(b, src)); got != 3000 {
				b.Fatalf("listed %d", got)
			}
		}
	})
	b.Run("dnf-repoquery", func(b *testing.B) {
		testutil.RequireTool(b, "dnf")
		conf := filepath.Join(b.TempDir(), "dnf.conf")
		os.WriteFile(conf, []byte("[main]\nreposdir=/nonexistent\n"), 0o644)
		for b.Loop() {
			cache := b.TempDir()
			out, err := exec.Command("dnf", "--noplugins", "-c", conf, "-q", "--setopt=cachedir="+cache,
				"--repofrompath=bench,file://"+dir, "--repo=bench", "repoquery", "--arch=src",
				"--qf", "%{name}-%{version}-%{release}").Output()
			if err != nil {
				b.Fatalf("dnf repoquery: %v", err)
			}
			if n := strings.Count(string(out), "\n"); n != 3000 {
				b.Fatalf("dnf listed %d", n)
			}
		}
	})
}

// BenchmarkPollUnchanged is a watcher's steady state: polling an unchanged
// repository over HTTP (one conditional request, answered 304).
func BenchmarkPollUnchanged(b *testing.B) {
	dir := benchRepo(b, 3000)
	srv, rec := serveDir(b, dir)
	src := newSource(b, config.Source{Name: "bench", URL: srv.URL}, Options{})
	list(b, src)
	ctx := context.Background()
	for b.Loop() {
		if _, err := src.List(ctx); err != nil {
			b.Fatal(err)
		}
	}
	if rec.count("/repodata/repomd.xml", 304) == 0 {
		b.Fatal("no 304 answers")
	}
}
