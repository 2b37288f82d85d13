package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	"github.com/kabiforge/kabiforge/internal/infile"

	"go.yaml.in/yaml/v3"
)

// DefaultFile is the file Locate finds in the working directory.
const DefaultFile = "kabiforge.yaml"

// Environment variables read by Locate and Load.
const (
	EnvConfig            = "KABIFORGE_CONFIG"             // the config file
	EnvTemporalAddress   = "KABIFORGE_TEMPORAL_ADDRESS"   // overrides temporal.address
	EnvTemporalNamespace = "KABIFORGE_TEMPORAL_NAMESPACE" // overrides temporal.namespace
	EnvTemporalAPIKey    = "KABIFORGE_TEMPORAL_API_KEY"   // the Temporal API key
	EnvSigningPassphrase = "KABIFORGE_SIGNING_PASSPHRASE" // the signing key's passphrase
)

// maxFileSize bounds a configuration file.
const maxFileSize = 1 << 20

// LookupEnv looks up an environment variable; os.LookupEnv is one.
type LookupEnv func(key string) (string, bool)

// Locate returns the file to load: flag when set, else $KABIFORGE_CONFIG,
// else kabiforge.yaml when the working directory has one, else "" (defaults).
func Locate(flag string, env LookupEnv) string {
	if flag != "" {
		return flag
	}
	if env == nil {
		env = os.LookupEnv
	}
	if v, ok := env(EnvConfig); ok && v != "" {
		return v
	}
	if _, err := os.Stat(DefaultFile); err == nil {
		return DefaultFile
	}
	return ""
}

// Load reads the configuration file at path, or the defaults when path is
// "", applies the environment overrides (env nil means os.LookupEnv) and
// validates the result. A configuration with problems is returned as nil and
// a Problems error listing all of them.
func Load(path string, env LookupEnv) (*Config, error) {
	if path == "" {
		wd, err := os.Getwd()
		if err != nil {
			return nil, fmt.Errorf("config: %w", err)
		}
		return finish(base(), wd, nil, env, nil)
	}
	data, err := infile.ReadFile(path, maxFileSize)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	return Parse(data, path, env)
}

// Parse is Load for the contents of a file: name is the file's path, used in
// problems and as the base of relative paths.
func Parse(data []byte, name string, env LookupEnv) (*Config, error) {
	c := base()
	c.File = name
	w := newWalker()
	early := decode(data, c, w)
	dir, err := filepath.Abs(filepath.Dir(name))
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	return finish(c, dir, w.lines, env, early)
}

// decode parses data strictly into c, returning every problem found.
func decode(data []byte, c *Config, w *walker) Problems {
	if len(data) > maxFileSize {
		return Problems{{Message: fmt.Sprintf("%d bytes; a configuration file is at most %d", len(data), maxFileSize)}}
	}
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := decodeNode(dec, &doc); errors.Is(err, io.EOF) {
		return nil // an empty file: all defaults
	} else if err != nil {
		return yamlProblems(err, w)
	}
	var ps Problems
	var more yaml.Node
	if err := decodeNode(dec, &more); !errors.Is(err, io.EOF) {
		ps = append(ps, Problem{Line: more.Line, Message: "a second YAML document (---); kabiforge reads one"})
	}
	if len(doc.Content) != 1 || doc.Content[0].Kind != yaml.MappingNode {
		if len(doc.Content) == 1 && doc.Content[0].Tag == "!!null" {
			return ps // only comments
		}
		return append(ps, Problem{Line: doc.Line, Message: "not a mapping of sections; start with a line like \"temporal:\" (see `kabiforge config example`)"})
	}
	w.walk(&doc, reflect.TypeOf(*c), "")
	ps = append(ps, w.probs.list...)
	if w.nodes > maxNodes || w.complexKey {
		return ps // do not let the decoder expand the aliases too
	}
	return append(ps, decodeStrict(data, c, w)...)
}

// decodeStrict decodes data into c, refusing unknown fields. A panic in the
// YAML library is a problem of the file, never a crash of the command.
func decodeStrict(data []byte, c *Config, w *walker) (ps Problems) {
	defer func() {
		if r := recover(); r != nil {
			ps = Problems{{Message: fmt.Sprintf("the YAML parser failed on this file (%v); simplify anchors, aliases and merge keys", r)}}
		}
	}()
	strict := yaml.NewDecoder(bytes.NewReader(data))
	strict.KnownFields(true)
	if err := strict.Decode(c); err != nil {
		return yamlProblems(err, w)
	}
	return nil
}

// decodeNode decodes the next document of dec into n, turning a panic of
// the YAML library into an error.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the YAML parser failed on this file: %v", r)
		}
	}()
	return dec.Decode(n)
}

// finish applies the environment, makes paths absolute under dir, fills in
// defaults, reads secrets and validates.
func finish(c *Config, dir string, lines map[string]int, env LookupEnv, early Problems) (*Config, error) {
	if env == nil {
		env = os.LookupEnv
	}
	overrides := c.applyEnv(env)
	c.resolvePaths(dir)
	c.fill()
	c.readSecrets()
	ps := append(early, c.Validate()...)
	if len(ps) == 0 {
		return c, nil
	}
	defer sortByLine(ps)
	for i := range ps {
		p := &ps[i]
		p.File = c.File
		if name, ok := overrides[p.Path]; ok {
			p.Line = 0
			p.Message += fmt.Sprintf(" (from $%s)", name)
		} else if p.Line == 0 {
			p.Line = lineOf(lines, p.Path)
		}
	}
	return nil, ps
}

// lineOf returns the line of path or of its nearest parent in the file.
func lineOf(lines map[string]int, path string) int {
	for path != "" {
		if l, ok := lines[path]; ok {
			return l
		}
		i := strings.LastIndexAny(path, ".[")
		if i < 0 {
			return 0
		}
		path = path[:i]
	}
	return 0
}

// applyEnv applies the environment overrides and returns the field paths they set.
func (c *Config) applyEnv(env LookupEnv) map[string]string {
	set := map[string]string{}
	if v, ok := env(EnvTemporalAddress); ok && v != "" {
		c.Temporal.Address = v
		set["temporal.address"] = EnvTemporalAddress
	}
	if v, ok := env(EnvTemporalNamespace); ok && v != "" {
		c.Temporal.Namespace = v
		set["temporal.namespace"] = EnvTemporalNamespace
	}
	if v, ok := env(EnvTemporalAPIKey); ok && v != "" {
		c.Temporal.APIKey = NewSecret(v)
	}
	if v, ok := env(EnvSigningPassphrase); ok && v != "" {
		c.Signing.Passphrase = NewSecret(v)
	}
	return set
}

// readSecrets reads the secret files not overridden by the environment.
// A file that cannot be read is left to Validate to report.
func (c *Config) readSecrets() {
	if !c.Temporal.APIKey.IsSet() && c.Temporal.APIKeyFile != "" {
		if b, err := os.ReadFile(c.Temporal.APIKeyFile); err == nil {
			c.Temporal.APIKey = NewSecret(strings.TrimSpace(string(b)))
		}
	}
	if !c.Signing.Passphrase.IsSet() && c.Signing.PassphraseFile != "" {
		if b, err := os.ReadFile(c.Signing.PassphraseFile); err == nil {
			c.Signing.Passphrase = NewSecret(strings.TrimRight(string(b), "\r\n"))
		}
	}
}

// resolvePaths makes every relative path absolute under dir.
func (c *Config) resolvePaths(dir string) {
	abs := func(p *string) {
		if *p != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(dir, *p)
		}
	}
	absURL := func(u *string) {
		if p, ok := strings.CutPrefix(*u, "dir://"); ok && p != "" && !filepath.IsAbs(p) {
			*u = "dir://" + filepath.Join(dir, p)
		}
	}
	abs(&c.DataDir)
	abs(&c.Temporal.APIKeyFile)
	c.Temporal.TLS.resolve(abs)
	for i := range c.Sources {
		s := &c.Sources[i]
		s.TLS.resolve(abs)
		for j := range s.Keys {
			abs(&s.Keys[j])
		}
		if (s.Kind == "" || s.Kind == SourceDir) && s.URL != "" && !strings.Contains(s.URL, "://") {
			abs(&s.URL)
		}
	}
	abs(&c.Signing.Key)
	abs(&c.Signing.PassphraseFile)
	abs(&c.Signing.ModuleKey)
	abs(&c.Signing.ModuleCert)
	absURL(&c.Stores.Artifacts)
	for i := range c.Stores.Repositories {
		absURL(&c.Stores.Repositories[i].URL)
	}
}

func (t *TLS) resolve(abs func(*string)) {
	abs(&t.CA)
	abs(&t.Cert)
	abs(&t.Key)
}

// sortByLine orders problems by line, those without a line last.
func sortByLine(ps Problems) {
	slices.SortStableFunc(ps, func(a, b Problem) int {
		switch {
		case a.Line == b.Line:
			return 0
		case a.Line == 0:
			return 1
		case b.Line == 0:
			return -1
		}
		return a.Line - b.Line
	})
}
