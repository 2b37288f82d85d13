package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"

	"github.com/kabiforge/kabiforge/internal/digest"
	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/provenance"
	"github.com/kabiforge/kabiforge/repo/store"
)

// Key prefixes of the artifact store.
const (
	KindSRPM   = "srpms"
	KindRPM    = "rpms"
	KindSigned = "signed"
	KindLog    = "logs"
	KindReport = "reports"
)

// artifactKey is where content with digest sum named name lives.
func artifactKey(kind, sum, name string) string { return path.Join(kind, sum, name) }

// PutRPM stores the package file at p in the artifact store, as builds
// store theirs, and returns its reference.
func PutRPM(ctx context.Context, st store.Store, p string) (pipeline.Artifact, error) {
	return putFile(ctx, st, KindRPM, p)
}

// putFile stores the file at p under kind, content-addressed, and returns
// its reference. Content already present is not written again.
func putFile(ctx context.Context, st store.Store, kind, p string) (pipeline.Artifact, error) {
	sum, size, err := digest.File(p)
	if err != nil {
		return pipeline.Artifact{}, infra("hash "+p, err)
	}
	name := filepath.Base(p)
	a := pipeline.Artifact{Key: artifactKey(kind, sum, name), SHA256: sum, Name: name, Size: size}
	if info, err := st.Stat(ctx, a.Key); err == nil && info.Size == size {
		return a, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return pipeline.Artifact{}, infra("store "+name, err)
	}
	defer f.Close()
	if _, err := st.Put(ctx, a.Key, f); err != nil {
		return pipeline.Artifact{}, infra("store "+a.Key, err)
	}
	return a, nil
}

// putBytes stores data under kind with the given name.
func putBytes(ctx context.Context, st store.Store, kind, name string, data []byte) (pipeline.Artifact, error) {
	h := sha256.Sum256(data)
	sum := hex.EncodeToString(h[:])
	a := pipeline.Artifact{Key: artifactKey(kind, sum, name), SHA256: sum, Name: name, Size: int64(len(data))}
	if _, err := st.Stat(ctx, a.Key); err == nil {
		return a, nil
	}
	if _, err := st.Put(ctx, a.Key, bytesReader(data)); err != nil {
		return pipeline.Artifact{}, infra("store "+a.Key, err)
	}
	return a, nil
}

// getFile copies an artifact into dir under its name and checks its digest.
func getFile(ctx context.Context, st store.Store, a pipeline.Artifact, dir string) (string, error) {
	if a.Name == "" || filepath.Base(a.Name) != a.Name {
		return "", badInput(fmt.Errorf("artifact %q: bad file name %q", a.Key, a.Name))
	}
	r, _, err := st.Get(ctx, a.Key)
	if errors.Is(err, store.ErrNotExist) {
		return "", badInput(fmt.Errorf("artifact %s does not exist", a.Key))
	}
	if err != nil {
		return "", infra("read "+a.Key, err)
	}
	defer r.Close()
	p := filepath.Join(dir, a.Name)
	f, err := os.Create(p)
	if err != nil {
		return "", infra("write "+p, err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(f, h), r); err != nil {
		f.Close()
		return "", infra("read "+a.Key, err)
	}
	if err := f.Close(); err != nil {
		return "", infra("write "+p, err)
	}
	if got := hex.EncodeToString(h.Sum(nil)); a.SHA256 != "" && got != a.SHA256 {
		return "", badInput(fmt.Errorf("artifact %s: sha256 %s, want %s", a.Key, got, a.SHA256))
	}
	return p, nil
}

// getBytes reads a small artifact and checks its digest.
func getBytes(ctx context.Context, st store.Store, a pipeline.Artifact) ([]byte, error) {
	r, _, err := st.Get(ctx, a.Key)
	if errors.Is(err, store.ErrNotExist) {
		return nil, badInput(fmt.Errorf("artifact %s does not exist", a.Key))
	}
	if err != nil {
		return nil, infra("read "+a.Key, err)
	}
	defer r.Close()
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, infra("read "+a.Key, err)
	}
	if h := sha256.Sum256(data); a.SHA256 != "" && hex.EncodeToString(h[:]) != a.SHA256 {
		return nil, badInput(fmt.Errorf("artifact %s: sha256 %x, want %s", a.Key, h, a.SHA256))
	}
	return data, nil
}

// getFiles copies artifacts into dir.
func getFiles(ctx context.Context, st store.Store, as []pipeline.Artifact, dir string) ([]string, error) {
	var ps []string
	for _, a := range as {
		p, err := getFile(ctx, st, a, dir)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// loadProvenance returns a repository's provenance records.
func loadProvenance(ctx context.Context, st store.Store) (provenance.Set, error) {
	pub, err := provenance.Load(ctx, st)
	if err != nil {
		return provenance.Set{}, recordErr(err)
	}
	return pub, nil
}
