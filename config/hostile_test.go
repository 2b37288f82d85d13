package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestHostileYAMLIsAProblemNamingTheFile loads files that made the YAML
// library panic or that use its corners: each is a Problems error naming
// the file and what is wrong, never a panic.
func TestHostileYAMLIsAProblemNamingTheFile(t *testing.T) {
	cases := []struct {
		name, text, want string
	}{
		{"merge key with a mapping as key", "x: &b {name: a}\nsources: [{<<, *b}]\n", "keys are plain names"},
		{"mapping as key", "sources: [{? {a: 1} : 2}]\n", "keys are plain names"},
		{"list as key", "stores: {repositories: [{? [a, b] : c}]}\n", "keys are plain names"},
		{"alias to a mapping as a map key", "a: &a {x: 1}\nbuilder: {mock: {templates: {*a : y}}}\n", "keys are plain names"},
		{"merge of a scalar", "temporal: {<<: 3}\n", "map merge requires map"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "kabiforge.yaml")
			if err := os.WriteFile(path, []byte(c.text), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := Load(path, noEnv)
			var ps Problems
			if !errors.As(err, &ps) || cfg != nil {
				t.Fatalf("Load = %v, %v; want Problems", cfg, err)
			}
			if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, c.want) {
				t.Fatalf("error %q does not name %s and %q", msg, path, c.want)
			}
		})
	}
}
