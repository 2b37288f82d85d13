package provenance_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/store"
)

// counting counts a store's reads.
type counting struct {
	store.Store
	gets atomic.Int32
}

func (c *counting) Get(ctx context.Context, key string) (io.ReadCloser, store.Info, error) {
	c.gets.Add(1)
	return c.Store.Get(ctx, key)
}

func record(i int, kind pipeline.Kind) pipeline.Provenance {
	name := fmt.Sprintf("kernel-core-5.14.0-%d.el9.x86_64.rpm", i)
	if kind == pipeline.KindKmod {
		name = fmt.Sprintf("kmod-e1000-1.0-%d.el9.x86_64.rpm", i)
	}
	return pipeline.Provenance{RPM: pipeline.Artifact{Name: name, SHA256: fmt.Sprint(i)}, SourceRPM: pipeline.Artifact{SHA256: fmt.Sprint("src", i)},
		KernelNVR: fmt.Sprintf("5.14.0-%d.el9", i), Kind: kind, Kmod: map[bool]string{true: "e1000"}[kind == pipeline.KindKmod],
		Time: time.Date(2026, 11, 30, 0, 0, i, 0, time.UTC)}
}

// stores are the backends the index is tested on: a folder and an
// S3-protocol server (versitygw), whose listings say different things of
// an object (write time, ETag).
func stores(t *testing.T) map[string]func(t *testing.T) store.Store {
	endpoint, ak, sk, bucket := testutil.StartVersityGW(t)
	var n atomic.Int32
	return map[string]func(t *testing.T) store.Store{
		"dir": func(t *testing.T) store.Store {
			s, err := store.OpenDir(t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
		"s3": func(t *testing.T) store.Store {
			s, err := store.OpenS3(t.Context(), store.S3Config{Bucket: bucket, Prefix: fmt.Sprint("prov/", n.Add(1)), Endpoint: endpoint,
				Region: "us-east-1", PathStyle: true, Credentials: credentials.NewStaticCredentialsProvider(ak, sk, "")})
			if err != nil {
				t.Fatal(err)
			}
			return s
		},
	}
}

// TestLoadReadsTheIndexAndWhatItLacks writes ten records through Write,
// disturbs the store behind the index's back, and checks that Load answers
// what reading every record answers, reading only the index and the
// records it does not hold a current copy of.
func TestLoadReadsTheIndexAndWhatItLacks(t *testing.T) {
	changed := record(3, pipeline.KindKernel)
	changed.BuildHost = "rebuilt-behind-the-index" // longer: another size
	sameSize := record(4, pipeline.KindKernel)
	sameSize.Time = sameSize.Time.Add(time.Second) // same length, other bytes
	cases := []struct {
		name    string
		disturb func(ctx context.Context, t *testing.T, st store.Store)
		reads   int // Gets Load may make
	}{
		{"undisturbed: the index alone", nil, 1},
		{"no index: every record", func(ctx context.Context, t *testing.T, st store.Store) { del(ctx, t, st, provenance.IndexKey) }, 1 + 10},
		{"corrupt index: every record", func(ctx context.Context, t *testing.T, st store.Store) { put(ctx, t, st, provenance.IndexKey, "{") }, 1 + 10},
		{"other index version: every record", func(ctx context.Context, t *testing.T, st store.Store) {
			put(ctx, t, st, provenance.IndexKey, `{"version":99,"entries":[]}`)
		}, 1 + 10},
		{"a record written after the index", func(ctx context.Context, t *testing.T, st store.Store) {
			putRecord(ctx, t, st, record(11, pipeline.KindKmod))
		}, 2},
		{"a record rewritten, another size", func(ctx context.Context, t *testing.T, st store.Store) { putRecord(ctx, t, st, changed) }, 2},
		{"a record rewritten, the same size", func(ctx context.Context, t *testing.T, st store.Store) { putRecord(ctx, t, st, sameSize) }, 2},
		{"a record deleted", func(ctx context.Context, t *testing.T, st store.Store) {
			del(ctx, t, st, provenance.Key(record(5, pipeline.KindKmod).RPM.Name))
		}, 1},
	}
	for backend, open := range stores(t) {
		for _, tc := range cases {
			t.Run(backend+"/"+tc.name, func(t *testing.T) {
				ctx := t.Context()
				st := &counting{Store: open(t)}
				var recs []pipeline.Provenance
				for i := range 5 {
					recs = append(recs, record(i, pipeline.KindKernel), record(i, pipeline.KindKmod))
				}
				if err := provenance.Write(ctx, st, recs[:6]...); err != nil {
					t.Fatal(err)
				}
				if err := provenance.Write(ctx, st, recs[6:]...); err != nil {
					t.Fatal(err)
				}
				if tc.disturb != nil {
					tc.disturb(ctx, t, st.Store)
				}
				want, err := provenance.ReadJSON[pipeline.Provenance](ctx, st.Store, provenance.Prefix)
				if err != nil {
					t.Fatal(err)
				}
				st.gets.Store(0)
				got, err := provenance.Load(ctx, st)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got.Records(), want) {
					t.Errorf("Load = %d records, reading each record %d:\n got %+v\nwant %+v", len(got.Records()), len(want), got.Records(), want)
				}
				if n := int(st.gets.Load()); n != tc.reads {
					t.Errorf("Load read %d objects, want %d", n, tc.reads)
				}
			})
		}
	}
}

// TestLoadNamesACorruptRecord: a record that does not decode is an error
// naming its key, whether or not the index holds an older copy.
func TestLoadNamesACorruptRecord(t *testing.T) {
	for backend, open := range stores(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := t.Context()
			st := open(t)
			if err := provenance.Write(ctx, st, record(1, pipeline.KindKernel), record(2, pipeline.KindKernel)); err != nil {
				t.Fatal(err)
			}
			key := provenance.Key(record(2, pipeline.KindKernel).RPM.Name)
			put(ctx, t, st, key, `{"rpm": [`)
			_, err := provenance.Load(ctx, st)
			var corrupt *provenance.CorruptError
			if !errors.As(err, &corrupt) || corrupt.Key != key || !strings.Contains(err.Error(), key) {
				t.Fatalf("Load = %v, want a CorruptError naming %s", err, key)
			}
		})
	}
}

func put(ctx context.Context, t *testing.T, st store.Store, key, data string) {
	t.Helper()
	if _, err := st.Put(ctx, key, strings.NewReader(data)); err != nil {
		t.Fatal(err)
	}
}

// putRecord writes a record as a crash between a record and the index
// leaves it: without updating the index.
func putRecord(ctx context.Context, t *testing.T, st store.Store, p pipeline.Provenance) {
	t.Helper()
	data, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	put(ctx, t, st, provenance.Key(p.RPM.Name), string(data))
}

func del(ctx context.Context, t *testing.T, st store.Store, key string) {
	t.Helper()
	if err := st.Delete(ctx, key); err != nil {
		t.Fatal(err)
	}
}
