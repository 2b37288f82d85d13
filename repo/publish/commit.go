package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/store"
)

// attempt is one try at a publish, from reading the current state to the
// journal update after the commit.
func (p *Publisher) attempt(ctx context.Context, dir string, adds []*entry, remove []string, res *Result, inFlight *time.Time, release *releaseCache) error {
	st, err := readState(ctx, p.store, dir)
	if err != nil {
		return err
	}
	if err := p.checkInFlight(st, inFlight); err != nil {
		return err
	}
	if err := p.writeCompanions(ctx); err != nil {
		return err
	}
	if rel, old, err := release.get(ctx, p, st); err != nil {
		return err
	} else if rel != nil {
		adds = append(slices.Clone(adds), rel)
		if old != "" {
			remove = append(slices.Clone(remove), old)
		}
	}
	entries, dropped, err := p.plan(st, adds, remove)
	if err != nil {
		return err
	}
	res.Dropped, res.Packages = dropped, len(entries)
	res.Uploaded, res.Skipped = 0, len(adds)
	curSig := p.findSignature(st.repomd, st.asc)
	if st.repomd != nil && sameKeys(st, entries) && sigfile.VerifyFirst(p.kr, st.repomd, st.asc) == nil {
		same, err := p.pagesCurrent(ctx, st, entries)
		if err != nil {
			return err
		}
		if same {
			res.Committed, res.Revision = false, st.md.Revision
			return p.recordCurrent(ctx, st, curSig)
		}
	}
	for _, e := range entries {
		if e.Pkg != nil {
			continue
		}
		written, err := p.ensure(ctx, e.Key, e.Path)
		if err != nil {
			return err
		}
		if written {
			res.Uploaded++
			res.Skipped--
		}
	}
	meta, err := buildMetadata(dir, entries, p.cfg.Now)
	if err != nil {
		return fmt.Errorf("write metadata: %w", err)
	}
	pages, err := p.pages(ctx, meta.md.Revision, entries)
	if err != nil {
		return err
	}
	if err := p.addPages(ctx, dir, meta, pages); err != nil {
		return err
	}
	for _, d := range meta.md.Data {
		if _, err := p.ensure(ctx, d.Location, meta.files[d.Location]); err != nil {
			return err
		}
	}
	gen := Generation{Repomd: sum256(meta.repomd), Revision: meta.md.Revision, Committed: p.cfg.Now()}
	for _, d := range meta.md.Data {
		gen.Keys = append(gen.Keys, d.Location)
	}
	for _, e := range entries {
		gen.Keys = append(gen.Keys, e.key())
	}
	if err := p.commit(ctx, st, meta.repomd, curSig, &gen); err != nil {
		return err
	}
	res.Committed, res.Revision = true, gen.Revision
	p.cfg.Logf("publish %s: revision %s, %d packages", p.cfg.Name, gen.Revision, len(entries))
	err = updateJournal(ctx, p.store, func(j *Journal) error {
		if st.repomd != nil {
			j.markCurrent(p.currentGeneration(st, curSig), gen.Committed)
		}
		j.markCurrent(gen, gen.Committed)
		return nil
	})
	if err != nil {
		return err
	}
	return p.copyPages(ctx, pages)
}

// currentGeneration describes the state's repomd for the journal.
func (p *Publisher) currentGeneration(st *state, sig []byte) Generation {
	g := st.generation()
	g.Signature = sig
	g.Committed = p.cfg.Now()
	return g
}

// recordCurrent makes sure the journal knows the current generation (a
// previous publish may have committed but failed to write the journal).
func (p *Publisher) recordCurrent(ctx context.Context, st *state, sig []byte) error {
	j, _, err := readJournal(ctx, p.store)
	if err != nil {
		return err
	}
	if g := j.find(st.repomdSum); g != nil && g.Replaced.IsZero() && !hasUnreplaced(j, st.repomdSum) {
		return nil
	}
	return updateJournal(ctx, p.store, func(j *Journal) error {
		j.markCurrent(p.currentGeneration(st, sig), p.cfg.Now())
		return nil
	})
}

// hasUnreplaced reports whether a generation other than cur is unreplaced.
func hasUnreplaced(j *Journal, cur string) bool {
	for _, g := range j.Generations {
		if g.Repomd != cur && g.Replaced.IsZero() {
			return true
		}
	}
	return false
}

// commit writes repomd.xml.asc and then repomd.xml, each conditional on
// the version st read. When repomd.xml cannot be written, the previous
// repomd.xml.asc is put back so clients keep a matching pair.
func (p *Publisher) commit(ctx context.Context, st *state, repomd, curSig []byte, gen *Generation) error {
	sig, err := signRaw(p.cfg.Signer, repomd)
	if err != nil {
		return fmt.Errorf("sign repomd.xml: %w", err)
	}
	gen.Signature = sig
	sigs := [][]byte{sig}
	if curSig != nil {
		sigs = append(sigs, curSig)
	}
	j, _, err := readJournal(ctx, p.store)
	if err != nil {
		return err
	}
	for _, s := range j.recentSignatures(st.repomdSum, p.cfg.Now(), p.cfg.Window, p.cfg.MaxSignatures-len(sigs)) {
		if !slices.ContainsFunc(sigs, func(b []byte) bool { return bytes.Equal(b, s) }) {
			sigs = append(sigs, s)
		}
	}
	asc, err := sigfile.Armor(sigs)
	if err != nil {
		return err
	}
	ascInfo, err := p.store.CompareAndSwap(ctx, RepomdAscKey, st.ascVersion, bytes.NewReader(asc))
	if err != nil {
		return fmt.Errorf("write %s: %w", RepomdAscKey, err)
	}
	_, err = p.store.CompareAndSwap(ctx, RepomdKey, st.repomdVersion, bytes.NewReader(repomd))
	if err == nil {
		return nil
	}
	err = fmt.Errorf("write %s: %w", RepomdKey, err)
	if st.asc != nil {
		if _, rerr := p.store.CompareAndSwap(ctx, RepomdAscKey, ascInfo.Version, bytes.NewReader(st.asc)); rerr != nil {
			return errors.Join(err, fmt.Errorf("put back the previous %s: %w", RepomdAscKey, rerr))
		}
	}
	return err
}

// writeCompanions writes RPM-GPG-KEY-<name> and, with a base URL,
// <name>.repo.
func (p *Publisher) writeCompanions(ctx context.Context) error {
	key, err := publicKey(p.cfg.Signer)
	if err != nil {
		return err
	}
	if err := p.putIfChanged(ctx, KeyFileKey(p.cfg.Name), key); err != nil {
		return err
	}
	if p.cfg.ModuleCert != nil {
		if err := p.putIfChanged(ctx, ModuleCertKey(p.cfg.Name), p.cfg.ModuleCert); err != nil {
			return err
		}
	}
	if p.cfg.BaseURL == "" {
		return nil
	}
	return p.putIfChanged(ctx, RepoFileKey(p.cfg.Name), RepoFile(p.cfg.Name, p.cfg.BaseURL,
		strings.TrimSuffix(p.cfg.BaseURL, "/")+"/"+KeyFileKey(p.cfg.Name), p.cfg.ModuleCert != nil))
}

// releaseCache builds the release package at most once per publish.
type releaseCache struct {
	dir   string
	entry *entry
}

// get returns the release package to add, and the NEVRA of the one it
// replaces; nil when the repository's release package installs the current
// key and .repo file, or none is wanted.
func (c *releaseCache) get(ctx context.Context, p *Publisher, st *state) (*entry, string, error) {
	if !p.cfg.ReleasePackage || p.cfg.BaseURL == "" {
		return nil, "", nil
	}
	key, err := publicKey(p.cfg.Signer)
	if err != nil {
		return nil, "", err
	}
	files := releaseFiles{key: key, cert: p.cfg.ModuleCert,
		repo: RepoFile(p.cfg.Name, p.cfg.BaseURL, InstalledKeyURL(p.cfg.Name), p.cfg.ModuleCert != nil)}
	content := files.content()
	release, old := 1, ""
	for _, pkg := range st.pkgs {
		if pkg.Name != p.cfg.Name+"-release" {
			continue
		}
		for _, d := range pkg.Provides {
			if d.Name == releaseContentDep(p.cfg.Name) && d.Version == content {
				return nil, "", nil
			}
		}
		n, _ := strconv.Atoi(pkg.Release)
		release, old = max(release, n+1), pkg.NEVRA()
	}
	if c.entry == nil {
		path, err := buildReleaseRPM(ctx, c.dir, p.cfg.Name, release, files, p.cfg.Signer)
		if err != nil {
			return nil, "", err
		}
		if c.entry, err = describeLocal(path); err != nil {
			return nil, "", err
		}
	}
	return c.entry, old, nil
}

// errNoChange tells updateJournal to write nothing.
var errNoChange = errors.New("no change")

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
