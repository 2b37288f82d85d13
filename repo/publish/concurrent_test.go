package publish

import (
	"context"
	"fmt"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/rs/zerolog"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/serve"
	"github.com/kabiforge/kabiforge/repo/store"
)

// fetchStats counts client fetches made while publishes ran.
type fetchStats struct {
	fetches, failures, firstSigFailures atomic.Int64
	mu                                  sync.Mutex
	firstErr                            error
}

// publishWhileFetching runs 20 publishes, each adding one package, while
// 4 clients fetch the metadata over HTTP from `repo serve`'s handler over s,
// and returns what the clients saw. Clients keep going until the
// publishes are done and they made at least 100 fetches.
func publishWhileFetching(t *testing.T, s store.Store) *fetchStats {
	subs := make([]string, 20)
	for i := range subs {
		subs[i] = fmt.Sprintf("p%02d", i)
	}
	rpms := testutil.RPMBuild(t, multiSpec("many", "1", "1", subs...))
	if len(rpms) != 20 {
		t.Fatalf("built %d packages", len(rpms))
	}
	p := newPublisher(t, s, Config{})
	mustPublish(t, p, ChangeSet{Add: rpms[:1]})
	srv := httptest.NewServer(serve.Handler(s, zerolog.Nop()))
	t.Cleanup(srv.Close)
	get := httpGetter(srv.URL)
	kr := signer(t).Key().Keyring()

	stats := &fetchStats{}
	var done atomic.Bool
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for !done.Load() || stats.fetches.Load() < 100 {
				n := stats.fetches.Add(1)
				view, err := fetch(get, kr, false)
				switch {
				case err != nil:
					stats.failures.Add(1)
					stats.mu.Lock()
					if stats.firstErr == nil {
						stats.firstErr = fmt.Errorf("fetch %d: %w", n, err)
					}
					stats.mu.Unlock()
				case view.firstOnly != nil:
					stats.firstSigFailures.Add(1)
				}
				time.Sleep(2 * time.Millisecond)
			}
		})
	}
	start := time.Now()
	for i := 1; i < 20; i++ {
		mustPublish(t, p, ChangeSet{Add: rpms[i : i+1]})
	}
	mustPublish(t, p, ChangeSet{Remove: []string{"many-p00-1-1.noarch"}})
	fetchesDuring := stats.fetches.Load()
	elapsed := time.Since(start)
	done.Store(true)
	wg.Wait()
	t.Logf("20 publishes in %s; %d fetches during them, %d in all; %d failed; %d would fail a client checking only the first signature (librepo 1.14)",
		elapsed.Round(time.Millisecond), fetchesDuring, stats.fetches.Load(), stats.failures.Load(), stats.firstSigFailures.Load())
	if fetchesDuring < 100 {
		t.Errorf("only %d fetches during the publishes", fetchesDuring)
	}
	view, err := fetch(get, kr, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.packages) != 19 {
		t.Errorf("the repository lists %d packages, want 19", len(view.packages))
	}
	return stats
}

// 100 metadata fetches by concurrent clients during 20 publishes against
// `repo serve` over a dir store: zero failures.
func TestFetchesDuringPublishesDir(t *testing.T) {
	stats := publishWhileFetching(t, dirStore(t, t.TempDir()))
	if stats.failures.Load() != 0 {
		t.Fatalf("%d of %d fetches failed; first: %v", stats.failures.Load(), stats.fetches.Load(), stats.firstErr)
	}
}

// The same against an S3 store (versitygw on 127.0.0.1): reports its
// failure count.
func TestFetchesDuringPublishesS3(t *testing.T) {
	endpoint, ak, sk, bucket := testutil.StartVersityGW(t)
	s, err := store.OpenS3(context.Background(), store.S3Config{
		Bucket: bucket, Prefix: "repo", Endpoint: endpoint, Region: "us-east-1", PathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	stats := publishWhileFetching(t, s)
	t.Logf("S3 (versitygw): %d of %d fetches failed; first: %v", stats.failures.Load(), stats.fetches.Load(), stats.firstErr)
}
