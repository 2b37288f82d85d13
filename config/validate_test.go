package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// parse parses text as dir/kabiforge.yaml with an empty environment.
func parse(t *testing.T, dir, text string) (*Config, Problems) {
	t.Helper()
	cfg, err := Parse([]byte(text), filepath.Join(dir, "kabiforge.yaml"), noEnv)
	if err == nil {
		return cfg, nil
	}
	var ps Problems
	if !errors.As(err, &ps) {
		t.Fatalf("Parse: %v (not Problems)", err)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config with problems")
	}
	return nil, ps
}

func noEnv(string) (string, bool) { return "", false }

// messages returns "path: message" for each problem, with dir written as {dir}.
func messages(ps Problems, dir string) []string {
	var out []string
	for _, p := range ps {
		p.File, p.Line = "", 0
		out = append(out, strings.ReplaceAll(p.Error(), dir, "{dir}"))
	}
	return out
}

func TestValidationMessages(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string
	}{
		{"empty file is the defaults", "", nil},
		{"kabi policy", `
streams:
  - name: el8
    version: 4.18.0
    release: "*.el8*"
    kabi_policy:
      default: block
      rules: [{kinds: [crc, abi], action: ignore}, {symbol: "a b", action: hold}]`,
			[]string{`streams[0].kabi_policy.default: unknown action "block" (want hold-gate, fail-kmod or ignore)`,
				`streams[0].kabi_policy.rules[0].kinds: unknown kind "abi" (want one of [crc removed gpl-only namespace vermagic depends])`,
				`streams[0].kabi_policy.rules[1].action: unknown action "hold" (want hold-gate, fail-kmod or ignore)`,
				`streams[0].kabi_policy.rules[1].symbol: glob "a b" contains byte 0x20`}},
		{"ftp source", `
sources:
  - {name: local, url: ./up, unsigned: true}
  - {name: mirror, url: "ftp://mirror.example.org/srpms", unsigned: true}
streams: [{name: el8, source: local, version: 4.18.0, release: "*.el8*"}]`,
			[]string{`sources[1].url: scheme "ftp" not supported; use https, http, file or s3`}},
		{"source kind mismatch", `
sources: [{name: cdn, kind: rpm-md, url: "s3://bucket/srpms", unsigned: true}]`,
			[]string{`sources[0].url: kind rpm-md cannot read s3 URLs; use an https, http or file URL or another kind`}},
		{"unknown source kind", `
sources: [{name: cdn, kind: yum, url: "https://cdn.example.org/", unsigned: true}]`,
			[]string{`sources[0].kind: "yum" is not a source kind; use rpm-md, dir, s3 or dist-git`}},
		{"path for rpm-md", `
sources: [{name: cdn, kind: rpm-md, url: /srv/srpms, unsigned: true}]`,
			[]string{`sources[0].url: "/srv/srpms" is a path; kind rpm-md needs a URL such as file:///srv/srpms`}},
		{"source without keys or unsigned", `
sources: [{name: cdn, url: "https://cdn.example.org/srpms"}]`,
			[]string{`sources[0].keys: no upstream keys; add the OpenPGP public key files that sign these packages, or set unsigned: true to accept them unverified`}},
		{"missing key file", `
sources: [{name: cdn, url: "https://cdn.example.org/srpms", keys: [RPM-GPG-KEY-redhat-release]}]`,
			[]string{`sources[0].keys[0]: file {dir}/RPM-GPG-KEY-redhat-release not found`}},
		{"duplicate and bad source names", `
sources:
  - {name: cdn, url: ./a, unsigned: true}
  - {name: cdn, url: ./b, unsigned: true}
  - {name: "Bad Name", url: ./c, unsigned: true}
streams: [{name: el8, source: cdn, version: 4.18.0, release: "*.el8*"}]`,
			[]string{
				`sources[1].name: "cdn" already used by sources[0]; names must be unique`,
				`sources[2].name: "Bad Name" is not a valid name; use lower-case letters, digits, '.', '_' and '-'`,
			}},
		{"poll interval too short", `
sources: [{name: up, url: ./up, unsigned: true, poll_interval: 1s}]`,
			[]string{`sources[0].poll_interval: 1s is too short; use at least 10s`}},
		{"dist-git needs branch and lookaside", `
sources: [{name: git, kind: dist-git, url: "https://git.centos.org/rpms/kernel.git", unsigned: true}]`,
			[]string{
				`sources[0].branch: required for dist-git; e.g. c8 (tags imports/c8/kernel-<NVR>)`,
				`sources[0].lookaside: required; a https, http or file URL`,
			}},
		{"kmod naming an unknown source", `
kmods: [{name: e1000e, source: elrepo}]`,
			[]string{`kmods[0].source: no source named "elrepo"; use upstream`}},
		{"stream naming an unknown arch", `
streams: [{name: el8, version: 4.18.0, release: "*.el8*", arches: [x86_64, aarch64]}]`,
			[]string{`streams[0].arches[1]: arch "aarch64" is not listed under arches; add it there or remove it here`}},
		{"stream fields", `
streams: [{name: el9, version: "5.14.x", release: "[el9", repository: el9}]`,
			[]string{
				`streams[0].version: "5.14.x" is not a kernel version prefix; e.g. 4.18.0 or 5.14.0`,
				`streams[0].release: "[el9" is not a valid pattern; use * and ?, e.g. *.el8*`,
				`streams[0].repository: no repository named "el9"; use el8`,
			}},
		{"arch alias", `
arches: [{name: amd64}]
streams: [{name: el8, version: 4.18.0, release: "*.el8*", arches: [amd64]}]`,
			[]string{`arches[0].name: unknown arch "amd64"; did you mean x86_64?`}},
		{"arch on the control queue", `
arches: [{name: x86_64, queue: kabiforge}]`,
			[]string{`arches[0].queue: "kabiforge" is temporal.task_queue, the control queue; give builders their own queue (default build-x86_64)`}},
		{"mock needs a template per stream", `
builder: {kind: mock}`,
			[]string{`builder.mock.templates: no mock template for stream "el8" (streams[0]); add a line el8: <mock config>, such as centos-stream-8-{arch}`}},
		{"mock template without arch for two arches", `
arches: [{name: x86_64}, {name: aarch64}]
builder: {kind: mock, mock: {templates: {el8: centos-stream-8-x86_64, el7: foo}}}`,
			[]string{
				`builder.mock.templates.el7: no stream named "el7"; templates are keyed by stream name (el8)`,
				`builder.mock.templates.el8: "centos-stream-8-x86_64" has no {arch} but the stream builds x86_64, aarch64; write e.g. centos-stream-8-{arch}`,
			}},
		{"builder enums and limits", `
builder: {kind: rpmbuild, isolation: nspawn, time_limit: 30s, concurrency: 0, kmod_parallel: -1}`,
			[]string{
				`builder.isolation: applies to mock only; remove it or set kind: mock`,
				`builder.time_limit: 30s is too short; use at least 1m0s`,
				`builder.concurrency: 0 builds at once; use at least 1`,
				`builder.kmod_parallel: -1 kmod rebuilds at once; use at least 1`,
			}},
		{"bad builder kind", `
builder: {kind: koji}`,
			[]string{`builder.kind: "koji" is not one of mock or rpmbuild`}},
		{"relative mock config dir", `
builder: {kind: mock, mock: {config_dir: etc/mock, templates: {el8: "centos-stream-8-{arch}"}}}`,
			[]string{`builder.mock.config_dir: "etc/mock" is relative; mock needs an absolute config dir such as /etc/mock`}},
		{"bad mock isolation", `
builder: {kind: mock, isolation: chroot, mock: {templates: {el8: "centos-stream-8-{arch}"}}}`,
			[]string{`builder.isolation: "chroot" is not one of nspawn or simple`}},
		{"kmod policy and streams", `
kmods:
  - {name: e1000e, rebuild: sometimes, streams: [el9]}
  - {name: e1000e}`,
			[]string{
				`kmods[0].rebuild: "sometimes" is not one of on-break or always`,
				`kmods[0].streams[0]: no stream named "el9"; use el8`,
				`kmods[1].name: "e1000e" already used by kmods[0]; names must be unique`,
			}},
		{"gate", `
gate: {on: [kmod-failed, kmod-fail], timeout: 72h}`,
			[]string{
				`gate.on[1]: "kmod-fail" is not a gate condition; use kmod-failed, stablelist-changed, kabi-changed or always`,
				`gate.timeout_action: required with gate.timeout; approve or reject`,
			}},
		{"gate action without timeout", `
gate: {timeout_action: publish}`,
			[]string{
				`gate.timeout_action: set without gate.timeout; add a timeout such as 72h or remove the action`,
				`gate.timeout_action: "publish" is not one of approve or reject`,
			}},
		{"signing key must exist unless generated", `
signing: {key: keys/release.asc, passphrase_file: pass.txt}`,
			[]string{
				`signing.key: file {dir}/keys/release.asc not found`,
				`signing.passphrase_file: file {dir}/pass.txt not found`,
			}},
		{"temporal", `
temporal: {address: localhost, namespace: "", tls: {cert: client.pem}, api_key_file: key.txt}`,
			[]string{
				`temporal.address: "localhost" is not host:port; e.g. 127.0.0.1:7233 or my-ns.tmprl.cloud:7233`,
				`temporal.namespace: required; e.g. default`,
				`temporal.tls.cert: file {dir}/client.pem not found`,
				`temporal.tls.key: required with cert; a client certificate needs its private key`,
				`temporal.api_key_file: file {dir}/key.txt not found`,
			}},
		{"stores", `
stores:
  artifacts: "http://example.org/artifacts"
  repositories:
    - {name: el8, url: "s3:///repos"}
    - {name: el9, url: "dir:///srv/el9", baseurl: "ftp://example.org/el9"}
s3: {endpoint: "127.0.0.1:7070"}`,
			[]string{
				`stores.artifacts: scheme "http" not supported; use dir or s3`,
				`stores.repositories[0].url: "s3:///repos" names no bucket; use s3://bucket/prefix`,
				`stores.repositories[1].baseurl: scheme "ftp" not supported; use https, http or file`,
				`s3.endpoint: "127.0.0.1:7070" has no scheme; use a https or http URL`,
				`streams[0].repository: required when there is more than one repository; use el8 or el9`,
			}},
		{"baseurl required when listening on all addresses", `
http: {repo: "0.0.0.0:8080"}`,
			[]string{`stores.repositories[0].baseurl: required when http.repo (0.0.0.0:8080) is not an address clients can use; give the URL dnf clients use`}},
		{"retention", `
retention: {kernels: 0, window: 0s}`,
			[]string{
				`retention.kernels: 0; keep at least 1 kernel per arch`,
				`retention.window: 0s is too short; clients mid-download need old metadata for a while (default 48h)`,
			}},
		{"http", `
http: {repo: "127.0.0.1:8233", ui: "127.0.0.1:8233", metrics: "127.0.0.1:99999"}`,
			[]string{
				`http.metrics: port "99999" is not a number from 0 to 65535`,
				`http.ui: 127.0.0.1:8233 is also http.repo; each server needs its own port`,
			}},
		{"log level", `log_level: verbose`,
			[]string{`log_level: "verbose" is not one of debug, info, warn or error`}},
		{"empty lists", `
streams: []
arches: []
stores: {repositories: []}`,
			[]string{
				`streams: empty; track at least one kernel stream, e.g. - name: el8`,
				`arches: empty; list at least one arch, e.g. - name: x86_64`,
				`stores.repositories: empty; list at least one repository, e.g. - name: el8`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			_, ps := parse(t, dir, tt.yaml)
			got := messages(ps, dir)
			if !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestEveryProblemAtOnceWithLines(t *testing.T) {
	dir := t.TempDir()
	_, ps := parse(t, dir, `temporal:
  adress: localhost:7233
sources:
  - name: cdn
    url: ftp://mirror.example.org/srpms
    poll_interval: 5x
builder:
  concurrency: two
kmods:
  - name: e1000e
    source: elrepo
`)
	want := []string{
		`{dir}/kabiforge.yaml:2: temporal.adress: unknown field; did you mean "address"?`,
		`{dir}/kabiforge.yaml:5: sources[0].url: scheme "ftp" not supported; use https, http, file or s3`,
		`{dir}/kabiforge.yaml:6: sources[0].poll_interval: "5x" is not a duration; use a number with a unit, like 90s, 30m or 12h`,
		`{dir}/kabiforge.yaml:8: builder.concurrency: got ` + "`two`" + `; want a whole number`,
		`{dir}/kabiforge.yaml:11: kmods[0].source: no source named "elrepo"; use cdn`,
	}
	var got []string
	for _, p := range ps {
		if p.Path == "sources[0].keys" {
			continue // also reported; covered elsewhere
		}
		got = append(got, strings.ReplaceAll(p.Error(), dir, "{dir}"))
	}
	if !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}

func TestStrictUnknownFields(t *testing.T) {
	tests := []struct{ yaml, want string }{
		{"temporl:\n  address: x:1\n", `line 1: temporl: unknown field; did you mean "temporal"?`},
		{"sources:\n  - name: a\n    url: ./a\n    unsigned: true\n    signed: false\n", `line 5: sources[0].signed: unknown field; did you mean "unsigned"?`},
		{"builder:\n  mock:\n    template: {el8: x}\n", `line 3: builder.mock.template: unknown field; did you mean "templates"?`},
		{"http:\n  listen: 1.2.3.4:80\n", `line 2: http.listen: unknown field; known fields: metrics, repo, ui`},
		{"gate:\n  on: [always]\n  on: [kmod-failed]\n", `line 3: gate.on: mapping key "on" already defined at line 2`},
		{"retention: [3]\n", "line 1: retention: got a list; want a mapping (field: value lines)"},
		{"sources: {name: a}\n", "line 1: sources: got a mapping; want a list (- item lines or [a, b])"},
		{"temporal:\n  address: [\n", "line 2: did not find expected node content"},
		{"- a\n- b\n", "line 1: not a mapping of sections; start with a line like \"temporal:\" (see `kabiforge config example`)"},
		{"log_level: info\n---\nlog_level: debug\n", "line 2: a second YAML document (---); kabiforge reads one"},
	}
	for _, tt := range tests {
		_, ps := parse(t, t.TempDir(), tt.yaml)
		found := false
		var got []string
		for _, p := range ps {
			p.File = ""
			got = append(got, p.Error())
			found = found || p.Error() == tt.want
		}
		if !found {
			t.Errorf("%q:\n got %q\nwant %q among them", tt.yaml, got, tt.want)
		}
	}
}

func TestAliasBombIsRefused(t *testing.T) {
	var b strings.Builder
	b.WriteString("x0: &x0 {name: a, url: ./a, unsigned: true}\n")
	for i := 1; i < 400; i++ {
		fmt.Fprintf(&b, "x%d: &x%d {<<: *x%d}\n", i, i, i-1)
	}
	b.WriteString("sources: [")
	for i := 0; i < 400; i++ {
		b.WriteString("*x399, ")
	}
	b.WriteString("]\n")
	start := time.Now()
	_, ps := parse(t, t.TempDir(), b.String())
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	want := "the file expands to over 100000 nodes through aliases; write it out plainly"
	if !slices.ContainsFunc(ps, func(p Problem) bool { return p.Message == want }) {
		t.Errorf("problems %v lack %q", ps, want)
	}
}

func TestMissingFileIsNamed(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), noEnv)
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") || !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of a missing file: %v", err)
	}
}

func TestFilesThatExistPass(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"ca.pem", "client.pem", "client.key", "RPM-GPG-KEY", "signing.asc"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Mkdir(filepath.Join(dir, "adir"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, ps := parse(t, dir, `
temporal: {tls: {ca: ca.pem, cert: client.pem, key: client.key}}
sources: [{name: cdn, url: "https://cdn.example.org/srpms", keys: [RPM-GPG-KEY], tls: {ca: adir}}]
signing: {key: signing.asc}`)
	want := []string{`sources[0].tls.ca: {dir}/adir is a directory, not a file`}
	if got := messages(ps, dir); !slices.Equal(got, want) {
		t.Errorf("problems:\n got %q\nwant %q", got, want)
	}
}
