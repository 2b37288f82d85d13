package publish

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kabiforge/kabiforge/repo/store"
)

// Cleanup deletes the metadata and packages that only generations replaced
// more than Config.Window ago named, and returns how many it deleted. The
// journal first moves their keys to its garbage list, so a cleanup that
// stops early is finished by the next one. It does nothing while the
// journal lacks the current repomd.xml (the next publish records it).
func (p *Publisher) Cleanup(ctx context.Context) (int, error) {
	cur, _, err := getAll(ctx, p.store, RepomdKey)
	if err != nil {
		return 0, err
	}
	now := p.cfg.Now()
	var garbage []string
	postponed := false
	err = updateJournal(ctx, p.store, func(j *Journal) error {
		if cur != nil && j.find(sum256(cur)) == nil {
			p.cfg.Logf("publish %s: journal lacks the current repomd.xml; cleanup postponed", p.cfg.Name)
			garbage, postponed = nil, true
			return errNoChange
		}
		before := len(j.Generations) + len(j.Garbage)
		garbage = j.expire(now, p.cfg.Window)
		if len(j.Generations)+len(j.Garbage) == before && len(garbage) == 0 {
			return errNoChange
		}
		return nil
	})
	if err != nil || postponed {
		return 0, err
	}
	done := map[string]bool{}
	n, err := p.deleteGarbage(ctx, garbage, now, done)
	if len(done) > 0 {
		if jerr := updateJournal(ctx, p.store, func(j *Journal) error { j.collected(done); return nil }); jerr != nil {
			err = errors.Join(err, jerr)
		}
	}
	if err != nil {
		return n, err
	}
	swept, err := p.sweepOrphans(ctx, now)
	return n + swept, err
}

// deleteGarbage deletes keys not written since the window began, marking
// in done those it settled (deleted, already gone, or written again).
func (p *Publisher) deleteGarbage(ctx context.Context, keys []string, now time.Time, done map[string]bool) (int, error) {
	n := 0
	for _, key := range keys {
		info, err := p.store.Stat(ctx, key)
		if errors.Is(err, store.ErrNotExist) {
			done[key] = true
			continue
		}
		if err != nil {
			return n, fmt.Errorf("cleanup: stat %s: %w", key, err)
		}
		if now.Sub(info.ModTime) < p.cfg.Window {
			done[key] = true // written again by a publish since: its own now
			continue
		}
		if err := p.store.Delete(ctx, key); err != nil {
			return n, fmt.Errorf("cleanup: delete %s: %w", key, err)
		}
		done[key] = true
		n++
	}
	return n, nil
}

// orphanPrefixes are where a publish attempt writes files before its
// repomd.xml names them: checksum-named metadata and content-addressed
// packages.
var orphanPrefixes = []string{"repodata/", "Packages/"}

// sweepOrphans deletes the files under orphanPrefixes that no generation in
// the journal names and that were last written longer than the retention
// window ago: what attempts cut short (a crash, a lost compare-and-swap)
// uploaded and never committed. An attempt in flight wrote its files less
// than the window ago, so they are spared.
func (p *Publisher) sweepOrphans(ctx context.Context, now time.Time) (int, error) {
	j, _, err := readJournal(ctx, p.store)
	if err != nil {
		return 0, err
	}
	named := map[string]bool{RepomdKey: true, RepomdAscKey: true}
	for _, g := range j.Generations {
		for _, k := range g.Keys {
			named[k] = true
		}
	}
	for _, k := range j.Garbage {
		named[k] = true
	}
	var orphans []string
	for _, prefix := range orphanPrefixes {
		for info, err := range p.store.List(ctx, prefix) {
			if err != nil {
				return 0, fmt.Errorf("cleanup: list %s: %w", prefix, err)
			}
			if !named[info.Key] && now.Sub(info.ModTime) >= p.cfg.Window {
				orphans = append(orphans, info.Key)
			}
		}
	}
	if len(orphans) > 0 {
		p.cfg.Logf("publish %s: deleting %d files no generation names", p.cfg.Name, len(orphans))
	}
	return p.deleteGarbage(ctx, orphans, now, map[string]bool{})
}
