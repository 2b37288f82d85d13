package source

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/store"
)

// An s3 source lists the *.src.rpm objects under its prefix of a real
// S3-protocol server and fetches them: on gofakes3 (in process) and on
// versitygw.
func TestS3Source(t *testing.T) {
	for name, start := range map[string]func(t *testing.T) (endpoint, ak, sk, bucket string){
		"gofakes3": func(t *testing.T) (string, string, string, string) {
			backend := s3mem.New()
			if err := backend.CreateBucket("upstream"); err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gofakes3.New(backend).Server())
			t.Cleanup(srv.Close)
			return srv.URL, "ak", "sk", "upstream"
		},
		"versitygw": func(t *testing.T) (string, string, string, string) { return testutil.StartVersityGW(t) },
	} {
		t.Run(name, func(t *testing.T) {
			endpoint, ak, sk, bucket := start(t)
			testS3Source(t, endpoint, ak, sk, bucket)
		})
	}
}

func testS3Source(t *testing.T, endpoint, ak, sk, bucket string) {
	t.Setenv("AWS_ACCESS_KEY_ID", ak)
	t.Setenv("AWS_SECRET_ACCESS_KEY", sk)
	ctx := context.Background()
	up, err := store.OpenS3(ctx, store.S3Config{Bucket: bucket, Endpoint: endpoint, Region: "us-east-1", PathStyle: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	s := sign.NewSigner(testKey(t, "upstream"))
	for key, p := range map[string]string{
		"srpms/el8/kernel-4.18.0-80.el8.src.rpm": buildSRPM(t, dir, "kernel", "4.18.0", "80"),
		"srpms/el8/kmod-foo-1.2-3.el8.src.rpm":   buildSRPM(t, dir, "kmod-foo", "1.2", "3"),
		"other/kernel-9-9.el8.src.rpm":           buildSRPM(t, t.TempDir(), "kernel", "9", "9"),
	} {
		if err := s.SignRPM(p); err != nil {
			t.Fatal(err)
		}
		f, _ := os.Open(p)
		if _, err := up.Put(ctx, key, f); err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	up.Put(ctx, "srpms/el8/README", strings.NewReader("not a package"))

	cfg := config.Source{Name: "s3", URL: "s3://" + bucket + "/srpms"}
	src := newSource(t, cfg, Options{S3: config.S3{Endpoint: endpoint, Region: "us-east-1", PathStyle: true}})
	pkgs := list(t, src)
	var got []string
	for _, p := range pkgs {
		got = append(got, p.NEVRA.String()+" "+p.Location)
	}
	slices.Sort(got)
	want := []string{"kernel-4.18.0-80.el8.src el8/kernel-4.18.0-80.el8.src.rpm", "kmod-foo-1.2-3.el8.src el8/kmod-foo-1.2-3.el8.src.rpm"}
	if !slices.Equal(got, want) {
		t.Fatalf("listed %v, want %v", got, want)
	}
	k := find(t, pkgs, "kernel")
	f, err := Fetch(ctx, src, k, openStore(t), FetchOptions{Keys: upstreamKeys(t)})
	if err != nil {
		t.Fatal(err)
	}
	if f.SHA256 != sha256File(t, filepath.Join(dir, "kernel-4.18.0-80.el8.src.rpm")) || f.Size != k.Size {
		t.Errorf("fetched %+v", f)
	}
}
