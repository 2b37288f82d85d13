package publish

import (
	"context"
	"fmt"
	"time"
)

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
