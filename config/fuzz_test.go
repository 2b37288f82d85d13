package config

import (
	"errors"
	"path/filepath"
	"testing"
)

// FuzzLoad parses arbitrary files: it must never panic, and it returns
// either a valid configuration or Problems that each say something.
func FuzzLoad(f *testing.F) {
	f.Add(Example())
	seeds := []string{
		"",
		"temporal:\n  adress: localhost:7233\n",
		"sources:\n  - name: a\n    url: ftp://x/y\n    poll_interval: 5x\n",
		"gate:\n  on: [always]\n  on: [kmod-failed]\n",
		"temporal:\n  address: [\n",
		"- a\n- b\n",
		"log_level: info\n---\nlog_level: debug\n",
		"base: &b {name: x, url: ./x, unsigned: true}\nsources: [*b, {<<: *b, name: y}]\n",
		"builder: {mock: {templates: {el8: \"{arch}\"}}, kind: mock}\narches: [{name: aarch64}, {name: x86_64}]\n",
		"retention: {kernels: 99999999999999999999, window: -5h}\n",
		"stores: {repositories: [{name: a, url: \"dir://\"}, {name: b, url: \"s3://%zz\"}]}\n",
		"streams: [{name: el8, arches: [null, [x]], release: '\\\\'}]\n",
		"kmods: [{name: k, streams: [el8, el8]}, {}]\n",
		"http: {repo: \"[::1]:8080\", ui: \":8233\", metrics: \"::1\"}\n",
		"temporal: !!binary aGVsbG8=\n",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, filepath.Join(dir, "kabiforge.yaml"), noEnv)
		if err == nil {
			if c == nil {
				t.Fatal("nil config without error")
			}
			if ps := c.Validate(); len(ps) > 0 {
				t.Fatalf("accepted a config with problems: %v", ps)
			}
			return
		}
		var ps Problems
		if !errors.As(err, &ps) || len(ps) == 0 {
			t.Fatalf("error is not Problems: %v", err)
		}
		for _, p := range ps {
			if p.Message == "" {
				t.Fatalf("problem without a message: %+v", p)
			}
		}
	})
}
