package store_test

import (
	"crypto/rand"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/kabiforge/kabiforge/repo/store"
)

// BenchmarkDirPut writes a 4 MiB package durably with the dir store and, in
// the same run, with `cp` followed by `sync FILE` (what a shell publish
// script does to copy a package into a repository folder and flush it).
func BenchmarkDirPut(b *testing.B) {
	data := make([]byte, 4<<20)
	rand.Read(data)
	src := filepath.Join(b.TempDir(), "kernel.rpm")
	if err := os.WriteFile(src, data, 0o644); err != nil {
		b.Fatal(err)
	}
	b.Run("kabiforge", func(b *testing.B) {
		s, _ := store.OpenDir(b.TempDir())
		b.SetBytes(int64(len(data)))
		i := 0
		for b.Loop() {
			i++
			f, _ := os.Open(src)
			if _, err := s.Put(b.Context(), fmt.Sprintf("Packages/%d.rpm", i), f); err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	b.Run("cp+sync", func(b *testing.B) {
		dir := b.TempDir()
		b.SetBytes(int64(len(data)))
		i := 0
		for b.Loop() {
			i++
			dst := filepath.Join(dir, fmt.Sprintf("%d.rpm", i))
			if out, err := exec.Command("cp", src, dst).CombinedOutput(); err != nil {
				b.Fatalf("cp: %v %s", err, out)
			}
			if out, err := exec.Command("sync", dst).CombinedOutput(); err != nil {
				b.Fatalf("sync: %v %s", err, out)
			}
		}
	})
}
