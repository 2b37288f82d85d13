package publish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kabiforge/kabiforge/repo/sigfile"
)

// attemptInput is what one try at a publish works from.
type attemptInput struct {
	dir    string // the try's own scratch folder
	adds   []*entry
	remove []string
	carry  *carryOver
}

// carryOver is what one try hands the next: since when another publish
// has been seen in flight, and the release package, built at most once.
type carryOver struct {
	inFlightSince time.Time
	release       releaseCache
}

// attemptResult is what one try did; Publish reports it in Result.
type attemptResult struct {
	committed                   bool
	revision                    string
	packages, uploaded, skipped int
	dropped                     []string
}

// result copies what a try did into res.
func (a attemptResult) result(res *Result) {
	res.Committed, res.Revision, res.Packages = a.committed, a.revision, a.packages
	res.Uploaded, res.Skipped, res.Dropped = a.uploaded, a.skipped, a.dropped
}

// attempt is one try at a publish, from reading the current state to the
// journal update after the commit.
func (p *Publisher) attempt(ctx context.Context, in attemptInput) (attemptResult, error) {
	var out attemptResult
	st, err := readState(ctx, p.store, in.dir)
	if err != nil {
		return out, err
	}
	entries, err := p.prepare(ctx, st, &in, &out)
	if err != nil {
		return out, err
	}
	curSig := p.findSignature(st.repomd, st.asc)
	if st.repomd != nil && sameKeys(st, entries) && sigfile.VerifyFirst(p.kr, st.repomd, st.asc) == nil {
		same, err := p.pagesCurrent(ctx, st, entries)
		if err != nil {
			return out, err
		}
		if same {
			out.committed, out.revision = false, st.md.Revision
			return out, p.recordCurrent(ctx, st, curSig)
		}
	}
	if err := p.upload(ctx, entries, &out); err != nil {
		return out, err
	}
	meta, err := buildMetadata(in.dir, entries, p.cfg.Now)
	if err != nil {
		return out, fmt.Errorf("write metadata: %w", err)
	}
	pages, err := p.pages(ctx, meta.md.Revision, entries)
	if err != nil {
		return out, err
	}
	if err := p.addPages(ctx, in.dir, meta, pages); err != nil {
		return out, err
	}
	gen, err := p.uploadMetadata(ctx, meta, entries)
	if err != nil {
		return out, err
	}
	if err := p.commit(ctx, st, meta.repomd, curSig, &gen); err != nil {
		return out, err
	}
	out.committed, out.revision = true, gen.Revision
	p.cfg.Logf("publish %s: revision %s, %d packages", p.cfg.Name, gen.Revision, len(entries))
	err = updateJournal(ctx, p.store, func(j *Journal) error {
		if st.repomd != nil {
			j.markCurrent(p.currentGeneration(st, curSig), gen.Committed)
		}
		j.markCurrent(gen, gen.Committed)
		return nil
	})
	if err != nil {
		return out, err
	}
	return out, p.copyPages(ctx, pages)
}

// prepare waits out a publish in flight, writes the companion files, adds
// the release package when one is due and plans the new package list.
func (p *Publisher) prepare(ctx context.Context, st *state, in *attemptInput, out *attemptResult) ([]*entry, error) {
	if err := p.checkInFlight(st, &in.carry.inFlightSince); err != nil {
		return nil, err
	}
	if err := p.writeCompanions(ctx); err != nil {
		return nil, err
	}
	adds, remove := in.adds, in.remove
	if rel, old, err := in.carry.release.get(ctx, p, st); err != nil {
		return nil, err
	} else if rel != nil {
		adds = append(slices.Clone(adds), rel)
		if old != "" {
			remove = append(slices.Clone(remove), old)
		}
	}
	entries, dropped, err := p.plan(st, adds, remove)
	if err != nil {
		return nil, err
	}
	out.dropped, out.packages, out.skipped = dropped, len(entries), len(adds)
	return entries, nil
}

// upload writes the packages the repository does not hold yet.
func (p *Publisher) upload(ctx context.Context, entries []*entry, out *attemptResult) error {
	for _, e := range entries {
		if e.Pkg != nil {
			continue
		}
		written, err := p.ensure(ctx, e.Key, e.Path)
		if err != nil {
			return err
		}
		if written {
			out.uploaded++
			out.skipped--
		}
	}
	return nil
}

// uploadMetadata writes the new metadata files and returns the generation
// they and the packages make.
func (p *Publisher) uploadMetadata(ctx context.Context, meta *newMetadata, entries []*entry) (Generation, error) {
	for _, d := range meta.md.Data {
		if _, err := p.ensure(ctx, d.Location, meta.files[d.Location]); err != nil {
			return Generation{}, err
		}
	}
	gen := Generation{Repomd: sum256(meta.repomd), Revision: meta.md.Revision, Committed: p.cfg.Now()}
	for _, d := range meta.md.Data {
		gen.Keys = append(gen.Keys, d.Location)
	}
	for _, e := range entries {
		gen.Keys = append(gen.Keys, e.key())
	}
	return gen, nil
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
