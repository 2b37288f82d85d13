package config

import (
	_ "embed"
	"fmt"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"
)

//go:embed example.yaml
var example []byte

// Example returns a commented example file naming every setting; it passes
// Validate on any machine (its paths are under ./kabiforge-data).
func Example() []byte { return append([]byte(nil), example...) }

// String returns the configuration as YAML. Secrets are never part of it.
func (c *Config) String() string {
	b, err := yaml.Marshal(c)
	if err != nil {
		return fmt.Sprintf("config: %v", err)
	}
	return string(b)
}

// MarshalZerologObject logs a summary of the configuration, with secrets
// shown only as set or not: log.Info().Object("config", cfg).
func (c *Config) MarshalZerologObject(e *zerolog.Event) {
	e.Str("file", c.File).
		Str("data_dir", c.DataDir).
		Str("temporal", c.Temporal.Address).
		Str("namespace", c.Temporal.Namespace).
		Bool("tls", c.Temporal.TLS.Active()).
		Stringer("api_key", c.Temporal.APIKey).
		Str("builder", string(c.Builder.Kind)).
		Strs("sources", c.sourceNames()).
		Strs("streams", c.streamNames()).
		Strs("arches", c.archNames()).
		Strs("repositories", c.repoNames()).
		Int("kmods", len(c.Kmods)).
		Str("signing_key", c.Signing.Key).
		Str("module_signing_cert", c.Signing.ModuleCert).
		Stringer("passphrase", c.Signing.Passphrase)
}
