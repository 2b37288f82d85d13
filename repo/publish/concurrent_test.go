package publish

import (
	"context"
	"fmt"
	"io"
	"net/http/httptest"
	"path"
	"slices"
	"strings"
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
	errs                                map[string]int // by message, file names cut
}

func (s *fetchStats) fail(err error) {
	s.failures.Add(1)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.errs == nil {
		s.errs = map[string]int{}
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, ": "); i > 0 {
		msg = strings.TrimPrefix(path.Ext(strings.Fields(msg[:i])[len(strings.Fields(msg[:i]))-1]), ".") + "…" + msg[i:]
	}
	s.errs[msg]++
}

func (s *fetchStats) String() string {
	return fmt.Sprintf("%d fetches, %d failed %v, %d would fail a client checking only the first signature (librepo 1.14)",
		s.fetches.Load(), s.failures.Load(), s.errs, s.firstSigFailures.Load())
}

// timingStore records how long repomd.xml.asc is newer than repomd.xml.
type timingStore struct {
	store.Store
	mu      sync.Mutex
	ascAt   time.Time
	windows []time.Duration
}

func (s *timingStore) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (store.Info, error) {
	info, err := s.Store.CompareAndSwap(ctx, key, version, r)
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
	case key == RepomdAscKey:
		s.ascAt = time.Now()
	case key == RepomdKey:
		s.windows = append(s.windows, time.Since(s.ascAt))
	}
	return info, err
}

func (s *timingStore) maxWindow() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Max(s.windows)
}

// publishWhileFetching runs 20 publishes, each adding one package, while
// 4 clients fetch the metadata, 2 over HTTP from `repo serve`'s handler
// over s and 2 straight from s, and returns what each kind of client saw.
// Clients keep going until the publishes are done and they made at least
// 100 fetches.
func publishWhileFetching(t *testing.T, backing store.Store) (viaServe, direct *fetchStats) {
	s := &timingStore{Store: backing}
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
	kr := signer(t).Key().Keyring()

	viaServe, direct = &fetchStats{}, &fetchStats{}
	var all atomic.Int64
	var done atomic.Bool
	var wg sync.WaitGroup
	for i := range 4 {
		get, stats := httpGetter(srv.URL), viaServe
		if i%2 == 1 {
			get, stats = storeGetter(backing), direct
		}
		wg.Go(func() {
			for !done.Load() || all.Load() < 100 {
				all.Add(1)
				stats.fetches.Add(1)
				view, err := fetch(get, kr, false)
				switch {
				case err != nil:
					stats.fail(err)
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
	fetchesDuring := all.Load()
	elapsed := time.Since(start)
	done.Store(true)
	wg.Wait()
	t.Logf("20 publishes in %s, %d fetches during them; repomd.xml.asc newer than repomd.xml for at most %s per publish",
		elapsed.Round(time.Millisecond), fetchesDuring, s.maxWindow().Round(time.Microsecond))
	t.Logf("clients over repo serve: %v", viaServe)
	t.Logf("clients reading the store: %v", direct)
	if fetchesDuring < 100 {
		t.Errorf("only %d fetches during the publishes", fetchesDuring)
	}
	view, err := fetch(httpGetter(srv.URL), kr, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(view.packages) != 19 {
		t.Errorf("the repository lists %d packages, want 19", len(view.packages))
	}
	return viaServe, direct
}

// 100 metadata fetches by concurrent clients during 20 publishes against
// `repo serve` over a dir store: zero failures.
func TestFetchesDuringPublishesDir(t *testing.T) {
	viaServe, direct := publishWhileFetching(t, dirStore(t, t.TempDir()))
	for _, stats := range []*fetchStats{viaServe, direct} {
		if stats.failures.Load() != 0 {
			t.Errorf("failures: %v", stats)
		}
	}
	if n := viaServe.firstSigFailures.Load(); n != 0 {
		t.Errorf("over repo serve, %d fetches would fail a client checking only the first signature", n)
	}
}

// The same against an S3 store (versitygw on 127.0.0.1): zero failures
// too, over repo serve and reading the store, as the README claims.
func TestFetchesDuringPublishesS3(t *testing.T) {
	endpoint, ak, sk, bucket := testutil.StartVersityGW(t)
	s, err := store.OpenS3(context.Background(), store.S3Config{
		Bucket: bucket, Prefix: "repo", Endpoint: endpoint, Region: "us-east-1", PathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(ak, sk, ""),
	})
	if err != nil {
		t.Fatal(err)
	}
	viaServe, direct := publishWhileFetching(t, s)
	for _, stats := range []*fetchStats{viaServe, direct} {
		if stats.failures.Load() != 0 {
			t.Errorf("failures: %v", stats)
		}
	}
	if n := viaServe.firstSigFailures.Load(); n != 0 {
		t.Errorf("over repo serve, %d fetches would fail a client checking only the first signature", n)
	}
	t.Logf("S3 (versitygw) failure counts: %d of %d over repo serve, %d of %d reading the store",
		viaServe.failures.Load(), viaServe.fetches.Load(), direct.failures.Load(), direct.fetches.Load())
}
