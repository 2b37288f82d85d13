package publish

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/kabiforge/kabiforge/repo/store"
)

// JournalKey is where the publish journal lives in the store.
const JournalKey = ".kabiforge/journal.json"

// Journal records every repomd generation that clients may still be
// reading: the files it names and when it stopped being current. Cleanup
// deletes a file only when every generation naming it was replaced longer
// ago than the retention window.
type Journal struct {
	Generations []Generation `json:"generations"`
	// Garbage are keys of expired generations not yet deleted (a cleanup
	// stopped early); the next cleanup deletes them.
	Garbage []string `json:"garbage,omitempty"`
}

// Generation is one published repomd.xml.
type Generation struct {
	// Repomd is the hex sha256 of the repomd.xml content.
	Repomd   string `json:"repomd"`
	Revision string `json:"revision,omitempty"`
	// Signature is the binary OpenPGP signature packet over repomd.xml,
	// kept so that repomd.xml.asc can carry it while the generation may
	// still be read.
	Signature []byte `json:"signature,omitempty"`
	// Keys are the store keys the generation names: metadata and packages.
	Keys      []string  `json:"keys"`
	Committed time.Time `json:"committed"`
	// Replaced is when another repomd.xml took its place; zero while current.
	Replaced time.Time `json:"replaced,omitzero"`
}

// find returns the generation with the given repomd checksum, or nil.
func (j *Journal) find(sum string) *Generation {
	for i := range j.Generations {
		if j.Generations[i].Repomd == sum {
			return &j.Generations[i]
		}
	}
	return nil
}

// markCurrent records that cur is the current generation at now: it is
// added when missing, and every other generation not yet marked replaced
// is marked replaced at now (a late but safe time).
func (j *Journal) markCurrent(cur Generation, now time.Time) {
	if g := j.find(cur.Repomd); g != nil {
		g.Replaced = time.Time{}
		if g.Signature == nil {
			g.Signature = cur.Signature
		}
	} else {
		j.Generations = append(j.Generations, cur)
	}
	for i := range j.Generations {
		g := &j.Generations[i]
		if g.Repomd != cur.Repomd && g.Replaced.IsZero() {
			g.Replaced = now
		}
	}
}

// recentSignatures returns the signatures of generations other than skip
// replaced less than window before now, newest first.
func (j *Journal) recentSignatures(skip string, now time.Time, window time.Duration, max int) [][]byte {
	if max <= 0 {
		return nil
	}
	gens := slices.Clone(j.Generations)
	slices.SortFunc(gens, func(a, b Generation) int { return b.Committed.Compare(a.Committed) })
	var out [][]byte
	for _, g := range gens {
		if len(out) == max {
			break
		}
		if g.Repomd == skip || g.Signature == nil {
			continue
		}
		if g.Replaced.IsZero() || now.Sub(g.Replaced) < window {
			out = append(out, g.Signature)
		}
	}
	return out
}

// expire removes the generations replaced at least window before now, adds
// the keys only they named to Garbage, drops from Garbage the keys a
// remaining generation names, and returns Garbage.
func (j *Journal) expire(now time.Time, window time.Duration) []string {
	var kept []Generation
	var expired []Generation
	for _, g := range j.Generations {
		if !g.Replaced.IsZero() && now.Sub(g.Replaced) >= window {
			expired = append(expired, g)
		} else {
			kept = append(kept, g)
		}
	}
	live := map[string]bool{}
	for _, g := range kept {
		for _, k := range g.Keys {
			live[k] = true
		}
	}
	seen := map[string]bool{}
	var dead []string
	add := func(k string) {
		if !live[k] && !seen[k] {
			seen[k] = true
			dead = append(dead, k)
		}
	}
	for _, k := range j.Garbage {
		add(k)
	}
	for _, g := range expired {
		for _, k := range g.Keys {
			add(k)
		}
	}
	j.Generations = kept
	slices.Sort(dead)
	j.Garbage = dead
	return slices.Clone(dead)
}

// collected removes done keys from Garbage.
func (j *Journal) collected(done map[string]bool) {
	j.Garbage = slices.DeleteFunc(j.Garbage, func(k string) bool { return done[k] })
}

// readJournal returns the journal and its version ("" when there is none).
func readJournal(ctx context.Context, s store.Store) (*Journal, string, error) {
	rc, info, err := s.Get(ctx, JournalKey)
	if errors.Is(err, store.ErrNotExist) {
		return &Journal{}, "", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", JournalKey, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", JournalKey, err)
	}
	j, err := decodeJournal(b)
	if err != nil {
		return nil, "", fmt.Errorf("read %s: %w", JournalKey, err)
	}
	if info.Version == "" {
		return nil, "", fmt.Errorf("read %s: store gave no version", JournalKey)
	}
	return j, info.Version, nil
}

// decodeJournal decodes a journal as updateJournal writes it.
func decodeJournal(b []byte) (*Journal, error) {
	j := &Journal{}
	if err := json.Unmarshal(b, j); err != nil {
		return nil, err
	}
	return j, nil
}

// updateJournal applies change to the journal with a compare-and-swap,
// retrying when another publisher changed it meanwhile.
func updateJournal(ctx context.Context, s store.Store, change func(*Journal) error) error {
	for attempt := 0; ; attempt++ {
		j, version, err := readJournal(ctx, s)
		if err != nil {
			return err
		}
		if err := change(j); errors.Is(err, errNoChange) {
			return nil
		} else if err != nil {
			return err
		}
		b, err := json.MarshalIndent(j, "", " ")
		if err != nil {
			return err
		}
		_, err = s.CompareAndSwap(ctx, JournalKey, version, bytes.NewReader(b))
		if err == nil {
			return nil
		}
		if !errors.Is(err, store.ErrConflict) || attempt == 20 {
			return fmt.Errorf("write %s: %w", JournalKey, err)
		}
		if err := sleep(ctx, backoff(attempt)); err != nil {
			return err
		}
	}
}

// errNoChange tells updateJournal to write nothing.
var errNoChange = errors.New("no change")
