package config

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.yaml.in/yaml/v3"
)

const apiKey, passphrase = "tmprl-SECRET-api-key", "SECRET-passphrase"

// secretConfig loads a configuration holding both secrets from the environment.
func secretConfig(t *testing.T) *Config {
	t.Helper()
	env := map[string]string{EnvTemporalAPIKey: apiKey, EnvSigningPassphrase: passphrase}
	c, err := Load("", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if c.Temporal.APIKey.Reveal() != apiKey || c.Signing.Passphrase.Reveal() != passphrase {
		t.Fatal("secrets not loaded from the environment")
	}
	return c
}

func TestSecretsNeverPrinted(t *testing.T) {
	c := secretConfig(t)
	var log bytes.Buffer
	logger := zerolog.New(&log)
	logger.Info().Object("config", c).Str("key", c.Temporal.APIKey.String()).Msg("loaded")
	jsonOut, _ := json.Marshal(c)
	yamlOut, _ := yaml.Marshal(c)
	outputs := map[string]string{
		"zerolog": log.String(),
		"json":    string(jsonOut),
		"yaml":    string(yamlOut),
		"String":  c.String(),
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%10.3s"} {
		outputs["fmt "+verb+" config"] = fmt.Sprintf(verb, *c)
		outputs["fmt "+verb+" temporal"] = fmt.Sprintf(verb, c.Temporal)
		outputs["fmt "+verb+" secret"] = fmt.Sprintf(verb, c.Signing.Passphrase)
	}
	for name, out := range outputs {
		if strings.Contains(out, "SECRET") || strings.Contains(out, fmt.Sprintf("%x", apiKey)) {
			t.Errorf("%s shows a secret: %s", name, out)
		}
	}
	if !strings.Contains(log.String(), `"api_key":"[redacted]"`) || !strings.Contains(log.String(), `"passphrase":"[redacted]"`) {
		t.Errorf("the log should say the secrets are set: %s", log.String())
	}
	if got := fmt.Sprintf("%v|%#v", NewSecret(""), NewSecret("")); got != `|config.Secret("")` {
		t.Errorf("empty secret prints %q", got)
	}
}

func TestSecretsNotInProblems(t *testing.T) {
	env := map[string]string{EnvTemporalAPIKey: apiKey, EnvSigningPassphrase: passphrase, EnvTemporalAddress: "bad"}
	_, err := Parse([]byte("temporal: {tls: {ca: missing.pem}}\n"), "k.yaml",
		func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err == nil {
		t.Fatal("want problems")
	}
	if strings.Contains(err.Error(), "SECRET") {
		t.Errorf("problems show a secret: %v", err)
	}
}

func TestNullSectionsKeepDefaults(t *testing.T) {
	c, ps := parse(t, t.TempDir(), "temporal:\nbuilder:\nsources:\nretention:\n# only a comment\n")
	if ps != nil {
		t.Fatal(ps)
	}
	if c.Temporal.Address != DefaultAddress || c.Builder.Concurrency != 1 || c.Retention.Kernels != DefaultKernels || len(c.Sources) != 1 {
		t.Errorf("null sections lost defaults: %+v", c)
	}
}
