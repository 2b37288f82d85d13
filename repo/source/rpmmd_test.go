package source

import (
	"context"
	"testing"

	"github.com/kabiforge/kabiforge/config"
)

func TestRPMMDFileListsAndFetchesSignedSRPMs(t *testing.T) {
	dir := signedSRPMRepo(t, "kernel", "kmod-foo")
	src := newSource(t, config.Source{Name: "up", Kind: config.SourceRPMMD, URL: "file://" + dir}, Options{})
	pkgs := list(t, src)
	if len(pkgs) != 2 {
		t.Fatalf("listed %v", pkgs)
	}
	k := find(t, pkgs, "kernel")
	if k.NEVRA.String() != "kernel-1.0-1.el8.src" {
		t.Errorf("NEVRA %s", k.NEVRA)
	}
	if !k.IsSource() || k.Checksum.Type != "sha256" || k.Size <= 0 || k.Vouched || k.Location != "kernel-1.0-1.el8.src.rpm" {
		t.Errorf("package %+v", k)
	}
	st := openStore(t)
	got, err := Fetch(context.Background(), src, k, st, FetchOptions{Keys: upstreamKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	want := sha256File(t, dir+"/"+k.Location)
	if got.SHA256 != want || got.Key != StoreKey(want, "kernel-1.0-1.el8.src.rpm") || got.Size != k.Size || len(got.Signatures) != 1 {
		t.Errorf("fetched %+v", got)
	}
	if keys := storedKeys(t, st); len(keys) != 1 || keys[0] != got.Key {
		t.Errorf("store holds %v", keys)
	}
	// Fetching again is idempotent.
	if _, err := Fetch(context.Background(), src, k, st, FetchOptions{Keys: upstreamKeys(t)}); err != nil {
		t.Fatal(err)
	}
}
