package publish

import (
	"bytes"
	"context"
	"io"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/internal/testutil"
	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/store"
)

// slowStore delays writes of repomd.xml.asc so that publishers overlap.
type slowStore struct {
	store.Store
	delay time.Duration
}

func (s *slowStore) CompareAndSwap(ctx context.Context, key, version string, r io.Reader) (store.Info, error) {
	if key == RepomdAscKey {
		time.Sleep(s.delay)
	}
	return s.Store.CompareAndSwap(ctx, key, version, r)
}

// Two publishers racing on one repository both end up applied, one after
// the other: the journal shows three generations in a chain and the last
// names both packages.
func TestRacingPublishers(t *testing.T) {
	rpms := testutil.RPMBuild(t, multiSpec("race", "1", "1", "a", "b", "base"))
	dir := t.TempDir()
	s := &slowStore{Store: dirStore(t, dir), delay: 50 * time.Millisecond}
	mustPublish(t, newPublisher(t, s, Config{}), ChangeSet{Add: rpms[2:]})
	var wg sync.WaitGroup
	results := make([]*Result, 2)
	errs := make([]error, 2)
	start := make(chan struct{})
	for i := range 2 {
		p := newPublisher(t, s, Config{})
		wg.Go(func() {
			<-start
			results[i], errs[i] = p.Publish(context.Background(), ChangeSet{Add: rpms[i : i+1]})
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("publisher %d: %v", i, err)
		}
	}
	if results[0].Attempts+results[1].Attempts < 3 {
		t.Errorf("attempts %d and %d: the publishers did not meet", results[0].Attempts, results[1].Attempts)
	}
	t.Logf("attempts: %d and %d", results[0].Attempts, results[1].Attempts)
	view, err := fetch(storeGetter(s), signer(t).Key().Keyring(), true)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"race-a-1-1.noarch", "race-b-1-1.noarch", "race-base-1-1.noarch"}
	if !slices.Equal(view.packages, want) {
		t.Fatalf("packages %v, want %v", view.packages, want)
	}
	j, _, err := readJournal(context.Background(), s)
	if err != nil {
		t.Fatal(err)
	}
	if len(j.Generations) != 3 {
		t.Fatalf("journal has %d generations, want 3: %+v", len(j.Generations), j.Generations)
	}
	current := 0
	for _, g := range j.Generations {
		if g.Replaced.IsZero() {
			current++
		}
	}
	if current != 1 {
		t.Errorf("%d generations unreplaced, want 1", current)
	}
}

// A publisher that wrote repomd.xml.asc and died before repomd.xml is
// waited for (Config.Stale), then its signature is replaced.
func TestStalledPublisherIsWaitedForThenRepaired(t *testing.T) {
	rpms := testutil.RPMBuild(t, multiSpec("stall", "1", "1", "a", "b"))
	s := dirStore(t, t.TempDir())
	mustPublish(t, newPublisher(t, s, Config{}), ChangeSet{Add: rpms[:1]})
	cur, _, _ := getAll(context.Background(), s, RepomdKey)
	asc, ascVersion, _ := getAll(context.Background(), s, RepomdAscKey)
	orphan, err := signRaw(signer(t), []byte("<repomd>never committed</repomd>"))
	if err != nil {
		t.Fatal(err)
	}
	curSigs, _ := sigfile.Split(asc)
	stalled, _ := sigfile.Armor(append([][]byte{orphan}, curSigs...))
	if _, err := s.CompareAndSwap(context.Background(), RepomdAscKey, ascVersion, bytes.NewReader(stalled)); err != nil {
		t.Fatal(err)
	}
	if sigfile.VerifyFirst(signer(t).Key().Keyring(), cur, stalled) == nil || sigfile.VerifyAny(signer(t).Key().Keyring(), cur, stalled) != nil {
		t.Fatal("the stalled asc should verify repomd.xml only by its second signature")
	}
	start := time.Now()
	res := mustPublish(t, newPublisher(t, s, Config{Stale: 300 * time.Millisecond}), ChangeSet{Add: rpms[1:]})
	if waited := time.Since(start); waited < 300*time.Millisecond || res.Attempts < 2 {
		t.Errorf("published after %s in %d attempts; want a wait of Stale first", waited, res.Attempts)
	}
	view, err := fetch(storeGetter(s), signer(t).Key().Keyring(), true)
	if err != nil || view.firstOnly != nil || len(view.packages) != 2 {
		t.Fatalf("after repair: %+v, %v", view, err)
	}
}
