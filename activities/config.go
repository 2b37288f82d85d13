package activities

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"go.temporal.io/sdk/client"

	"github.com/kabiforge/kabiforge/config"
	"github.com/kabiforge/kabiforge/internal/build"
	"github.com/kabiforge/kabiforge/repo/modsign"
	"github.com/kabiforge/kabiforge/repo/publish"
	"github.com/kabiforge/kabiforge/repo/sign"
	"github.com/kabiforge/kabiforge/repo/source"
	"github.com/kabiforge/kabiforge/repo/store"
)

// ConfigHash identifies a configuration in provenance records: the sha256
// of its YAML form (which never holds secrets).
func ConfigHash(cfg *config.Config) string {
	h := sha256.Sum256([]byte(cfg.String()))
	return hex.EncodeToString(h[:])
}

// New returns the activities a worker runs for cfg: its stores, sources,
// builder and signing key (generated when the configuration asks for it
// and the file is missing). c sends publish requests.
func New(ctx context.Context, cfg *config.Config, c client.Client) (*Activities, error) {
	art, err := store.Open(ctx, cfg.S3.URL(cfg.Stores.Artifacts))
	if err != nil {
		return nil, fmt.Errorf("artifact store: %w", err)
	}
	a := &Activities{Artifacts: art, Sources: map[string]Source{}, Repositories: map[string]Repository{},
		BuilderName: string(cfg.Builder.Kind), ConfigHash: ConfigHash(cfg), Client: c,
		ControlQueue: cfg.Temporal.TaskQueue, Boot: &BootEnv{}}
	for _, s := range cfg.Sources {
		src, err := source.New(ctx, s, source.Options{S3: cfg.S3})
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		opts, err := source.FetchOptionsFor(s)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		a.Sources[s.Name] = Source{Source: src, Fetch: opts}
	}
	for _, r := range cfg.Stores.Repositories {
		st, err := store.Open(ctx, cfg.S3.URL(r.URL))
		if err != nil {
			return nil, fmt.Errorf("repository %s: %w", r.Name, err)
		}
		a.Repositories[r.Name] = Repository{Store: st, BaseURL: r.BaseURL,
			Retention: publish.Retention{Kernels: cfg.Retention.Kernels}, Window: cfg.Retention.Window}
	}
	a.Builder = builderFor(cfg)
	if cfg.Builder.Kind == config.BuilderMock {
		a.Templates = cfg.Builder.Mock.Template
	}
	if a.Signer, err = signerFor(cfg.Signing); err != nil {
		return nil, err
	}
	if a.ModuleKey, err = moduleKeyFor(cfg.Signing); err != nil {
		return nil, err
	}
	return a, nil
}

func builderFor(cfg *config.Config) build.Builder {
	if cfg.Builder.Kind != config.BuilderMock {
		return &build.Rpmbuild{}
	}
	// Each build names its stream's template (Activities.Templates);
	// validation makes sure every stream has one.
	return &build.Mock{Isolation: string(cfg.Builder.Isolation), ConfigDir: cfg.Builder.Mock.ConfigDir, User: cfg.Builder.Mock.User}
}

func signerFor(s config.Signing) (*sign.Signer, error) {
	pass := []byte(s.Passphrase.Reveal())
	key, err := sign.LoadKey(s.Key, pass)
	if errors.Is(err, fs.ErrNotExist) && s.Generate {
		if key, err = sign.Generate("kabiforge", "kabiforge@localhost", sign.RSA4096); err != nil {
			return nil, fmt.Errorf("generate signing key: %w", err)
		}
		if err = writeKey(key, s.Key, pass); err != nil {
			return nil, err
		}
	}
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", s.Key, err)
	}
	return sign.NewSigner(key), nil
}

func writeKey(key *sign.Key, path string, pass []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("signing key %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("signing key %s: %w", path, err)
	}
	if err := key.WritePrivate(f, pass); err != nil {
		f.Close()
		return fmt.Errorf("signing key %s: %w", path, err)
	}
	return f.Close()
}

// moduleKeyFor loads the module-signing key, generating it when the
// configuration asks for it and neither file exists; nil when none is
// configured.
func moduleKeyFor(s config.Signing) (*modsign.Key, error) {
	if !s.ModuleSigning() {
		return nil, nil
	}
	key, err := modsign.LoadKey(s.ModuleKey, s.ModuleCert)
	if errors.Is(err, fs.ErrNotExist) && s.Generate && !exists(s.ModuleKey) && !exists(s.ModuleCert) {
		if key, err = modsign.Generate("kabiforge Secure Boot signing key", 0); err != nil {
			return nil, err
		}
		err = writeModuleKey(key, s)
	}
	if err != nil {
		return nil, err
	}
	return key, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// writeModuleKey writes a generated module-signing key where s names it.
func writeModuleKey(key *modsign.Key, s config.Signing) error {
	for _, p := range []string{s.ModuleKey, s.ModuleCert} {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return fmt.Errorf("module-signing key %s: %w", p, err)
		}
	}
	return key.Write(modsign.Files{Private: s.ModuleKey, Cert: s.ModuleCert})
}
