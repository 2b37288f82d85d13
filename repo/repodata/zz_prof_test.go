package repodata

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

func BenchmarkZZOurs(b *testing.B) {
	d := os.Getenv("BDIR")
	if d == "" {
		b.Skip()
	}
	for b.Loop() {
		os.RemoveAll(filepath.Join(d, "repodata"))
		if _, err := Index(context.Background(), d, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
func BenchmarkZZUpd(b *testing.B) {
	d := os.Getenv("BDIR")
	if d == "" {
		b.Skip()
	}
	for b.Loop() {
		if _, err := Index(context.Background(), d, Options{Update: true}); err != nil {
			b.Fatal(err)
		}
	}
}
