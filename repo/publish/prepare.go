package publish

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/kabiforge/kabiforge/repo/repodata"
	"github.com/kabiforge/kabiforge/repo/rpm"
	"github.com/kabiforge/kabiforge/repo/sigfile"
	"github.com/kabiforge/kabiforge/repo/store"
)

// stage signs (when configured) and describes the packages to add.
// Every package is checked against its digests before any is signed or
// described: a corrupt or truncated package fails the whole change set.
func (p *Publisher) stage(ctx context.Context, work string, paths []string) ([]*entry, error) {
	if err := rpm.CheckFiles(ctx, paths); err != nil {
		return nil, fmt.Errorf("add: %w", err)
	}
	var out []*entry
	for i, path := range paths {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		src := path
		if p.cfg.SignPackages {
			dir := filepath.Join(work, "signed", fmt.Sprint(i))
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return nil, err
			}
			src = filepath.Join(dir, filepath.Base(path))
			if err := p.cfg.Signer.SignRPMTo(path, src); err != nil {
				return nil, err
			}
		}
		e, err := describeLocal(src)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, nil
}

// describeLocal reads a local RPM into a new entry keyed by its checksum.
func describeLocal(path string) (*entry, error) {
	rp, err := rpm.Open(path)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, err)
	}
	if rp.IsSource() {
		return nil, fmt.Errorf("add %s: a source package; repositories here hold binary packages", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return nil, fmt.Errorf("add %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	key := "Packages/" + sum + "/" + filepath.Base(path)
	if err := store.ValidKey(key); err != nil {
		return nil, fmt.Errorf("add %s: %w", path, err)
	}
	return &entry{Path: path, Key: key, Sum: sum, Size: n,
		Meta: repodata.FromRPM(rp, key, sum, fi.ModTime().Unix())}, nil
}

// nevraID identifies a package by NEVRA with epoch 0 and none alike.
func nevraID(name, epoch, version, release, arch string) string {
	if epoch == "0" {
		epoch = ""
	}
	return name + "\x00" + epoch + "\x00" + version + "\x00" + release + "\x00" + arch
}

func pkgID(p *repodata.Package) string {
	return nevraID(p.Name, p.Epoch, p.Version, p.Release, p.Arch)
}

// plan returns the packages of the new repository and the NEVRAs dropped.
func (p *Publisher) plan(st *state, adds []*entry, remove []string) ([]*entry, []string, error) {
	gone := map[string]bool{}
	for _, r := range remove {
		n, err := rpm.ParseNEVRA(r)
		if err != nil {
			return nil, nil, fmt.Errorf("remove: %w", err)
		}
		gone[nevraID(n.Name, n.Epoch, n.Version, n.Release, n.Arch)] = true
	}
	added := map[string]*entry{}
	for _, e := range adds {
		added[pkgID(e.Meta)] = e
	}
	var entries []*entry
	for _, pkg := range st.pkgs {
		id := pkgID(pkg)
		if a := added[id]; a != nil && sameBuild(a.Meta, pkg) {
			delete(added, id) // already there, perhaps signed differently
		} else if a != nil || gone[id] {
			continue
		}
		entries = append(entries, &entry{Pkg: pkg})
	}
	for _, e := range adds {
		if added[pkgID(e.Meta)] == e {
			entries = append(entries, e)
		}
	}
	descs := make([]*repodata.Package, len(entries))
	byDesc := map[*repodata.Package]*entry{}
	for i, e := range entries {
		descs[i] = e.desc()
		byDesc[descs[i]] = e
	}
	kept, dropped := p.cfg.Retention.retain(descs)
	entries = entries[:0]
	for _, d := range kept {
		entries = append(entries, byDesc[d])
	}
	present := map[string]bool{}
	for _, d := range kept {
		present[pkgID(d)] = true
	}
	var names []string
	for _, pkg := range st.pkgs {
		if !present[pkgID(pkg)] {
			names = append(names, pkg.NEVRA())
		}
	}
	for _, d := range dropped {
		if byDesc[d].Pkg == nil && !present[pkgID(d)] {
			names = append(names, d.NEVRA())
		}
	}
	return entries, names, nil
}

// sameBuild reports whether two package records describe one build: same
// NEVRA, build time and host, sizes and main header size. Signatures may
// differ, so re-signing a package does not republish it.
func sameBuild(a, b *repodata.Package) bool {
	return pkgID(a) == pkgID(b) && a.BuildTime == b.BuildTime && a.BuildHost == b.BuildHost &&
		a.InstalledSize == b.InstalledSize && a.ArchiveSize == b.ArchiveSize &&
		a.HeaderEnd-a.HeaderStart == b.HeaderEnd-b.HeaderStart
}

// sameKeys reports whether the new entries are exactly the current packages.
func sameKeys(st *state, entries []*entry) bool {
	if len(st.pkgs) != len(entries) {
		return false
	}
	for _, e := range entries {
		if e.Pkg == nil {
			return false
		}
	}
	return true
}

// ensure makes key hold the content of the local file path. Keys are
// content-addressed, so an existing object is left alone unless it is old
// enough that a cleanup may be about to delete it; then it is written
// again (same bytes) to renew it.
func (p *Publisher) ensure(ctx context.Context, key, path string) (written bool, err error) {
	info, err := p.store.Stat(ctx, key)
	if err == nil && p.cfg.Now().Sub(info.ModTime) < p.cfg.Window/2 {
		return false, nil
	}
	if err != nil && !errors.Is(err, store.ErrNotExist) {
		return false, fmt.Errorf("stat %s: %w", key, err)
	}
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	if _, err := p.store.Put(ctx, key, f); err != nil {
		return false, fmt.Errorf("upload %s: %w", key, err)
	}
	return true, nil
}

// putIfChanged writes small content to key unless it already holds it.
func (p *Publisher) putIfChanged(ctx context.Context, key string, content []byte) error {
	old, _, err := getAll(ctx, p.store, key)
	if err != nil {
		return err
	}
	if bytes.Equal(old, content) {
		return nil
	}
	if _, err := p.store.Put(ctx, key, bytes.NewReader(content)); err != nil {
		return fmt.Errorf("write %s: %w", key, err)
	}
	return nil
}

// findSignature returns the signature packet in asc that verifies data.
func (p *Publisher) findSignature(data, asc []byte) []byte {
	sigs, err := sigfile.Split(asc)
	if err != nil {
		return nil
	}
	for _, s := range sigs {
		if _, err := p.kr.VerifyDetached(bytes.NewReader(data), bytes.NewReader(s)); err == nil {
			return s
		}
	}
	return nil
}

// checkInFlight returns errInFlight while another publish has written its
// repomd.xml.asc but not yet its repomd.xml, for up to Config.Stale.
func (p *Publisher) checkInFlight(st *state, since *time.Time) error {
	if st.repomd == nil || st.asc == nil || sigfile.VerifyFirst(p.kr, st.repomd, st.asc) == nil {
		*since = time.Time{}
		return nil
	}
	if sigfile.VerifyAny(p.kr, st.repomd, st.asc) == nil {
		if since.IsZero() {
			*since = time.Now()
		}
		if time.Since(*since) < p.cfg.Stale {
			return errInFlight
		}
	}
	p.cfg.Logf("publish %s: repomd.xml.asc's first signature does not verify repomd.xml; rewriting it", p.cfg.Name)
	return nil
}
