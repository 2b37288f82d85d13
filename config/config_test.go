package config

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
	"go.yaml.in/yaml/v3"
)

func TestDefaultsRunDevWithNoFile(t *testing.T) {
	c := Default()
	if ps := c.Validate(); len(ps) > 0 {
		t.Fatalf("Default() has problems:\n%v", ps)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"data_dir", c.DataDir, "kabiforge-data"},
		{"address", c.Temporal.Address, "127.0.0.1:7233"},
		{"namespace", c.Temporal.Namespace, "default"},
		{"task queue", c.Temporal.TaskQueue, "kabiforge"},
		{"source", c.Sources, []Source{{Name: "upstream", Kind: SourceDir, URL: "kabiforge-data/upstream", Unsigned: true, PollInterval: 5 * time.Minute}}},
		{"streams", c.Streams, []Stream{{Name: "el8", Source: "upstream", Version: "4.18.0", Release: "*.el8*", Arches: []string{"x86_64"}, Repository: "el8"}}},
		{"arches", c.Arches, []Arch{{Name: "x86_64", Queue: "build-x86_64", BootTest: BootTestOff,
			Boot: Boot{Queue: "boot-x86_64", QEMU: "qemu-system-x86_64", MemoryMiB: 512, TimeLimit: time.Minute, Accel: AccelTCG, KernelArgs: []string{}}}}},
		{"builder", c.Builder.Kind, BuilderRPMBuild},
		{"time limit", c.Builder.TimeLimit, 12 * time.Hour},
		{"gate", c.Gate, Gate{On: []pipeline.GateCondition{pipeline.GateKmodFailed, pipeline.GateStablelistChanged}}},
		{"signing", c.Signing, Signing{Key: "kabiforge-data/keys/signing.asc", Generate: true,
			ModuleKey: "kabiforge-data/keys/module-signing.pem", ModuleCert: "kabiforge-data/keys/module-signing.der"}},
		{"artifacts", c.Stores.Artifacts, "dir://kabiforge-data/artifacts"},
		{"repos", c.Stores.Repositories, []Repository{{Name: "el8", URL: "dir://kabiforge-data/repos/el8", BaseURL: "http://127.0.0.1:8080/el8/"}}},
		{"retention", c.Retention, Retention{Kernels: 3, Window: 48 * time.Hour}},
		{"http", c.HTTP, HTTP{Repo: "127.0.0.1:8080", UI: "127.0.0.1:8233"}},
		{"log level", c.LogLevel, "info"},
	}
	for _, ck := range checks {
		if !reflect.DeepEqual(ck.got, ck.want) {
			t.Errorf("%s = %#v, want %#v", ck.name, ck.got, ck.want)
		}
	}
}

func TestLoadWithoutFileMakesPathsAbsolute(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	c, err := Load("", noEnv)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "kabiforge-data")
	if c.DataDir != data || c.Sources[0].URL != filepath.Join(data, "upstream") ||
		c.Stores.Artifacts != "dir://"+data+"/artifacts" || c.Signing.Key != filepath.Join(data, "keys", "signing.asc") {
		t.Errorf("paths not under %s: %+v", data, c)
	}
	if p, ok := DirPath(c.Stores.Repositories[0].URL); !ok || p != filepath.Join(data, "repos", "el8") {
		t.Errorf("DirPath(%q) = %q, %v", c.Stores.Repositories[0].URL, p, ok)
	}
}

func TestRelativePathsFollowTheFile(t *testing.T) {
	dir := t.TempDir()
	c, ps := parse(t, dir, `
data_dir: state
sources: [{name: up, url: incoming, unsigned: true}]
stores: {artifacts: "dir://art", repositories: [{name: el8, url: "dir:///srv/repo/el8"}]}`)
	if ps != nil {
		t.Fatal(ps)
	}
	want := map[string]string{
		"data_dir":  filepath.Join(dir, "state"),
		"source":    filepath.Join(dir, "incoming"),
		"artifacts": "dir://" + filepath.Join(dir, "art"),
		"repo":      "dir:///srv/repo/el8",
		"key":       filepath.Join(dir, "state", "keys", "signing.asc"),
	}
	got := map[string]string{
		"data_dir": c.DataDir, "source": c.Sources[0].URL, "artifacts": c.Stores.Artifacts,
		"repo": c.Stores.Repositories[0].URL, "key": c.Signing.Key,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("paths:\n got %v\nwant %v", got, want)
	}
}

func TestFileValuesWinOverDefaults(t *testing.T) {
	c, ps := parse(t, t.TempDir(), `
temporal: {namespace: kabi}
sources:
  - {name: cdn, url: "https://cdn.example.org/srpms", unsigned: true}
  - {name: elrepo, url: "s3://elrepo/srpms", unsigned: true, poll_interval: 1h}
  - {name: git, url: "https://git.example.org/kernel.git", kind: dist-git, branch: c8, lookaside: "https://git.example.org/sources", unsigned: true}
streams: [{name: el8, source: cdn, version: 4.18.0, release: "*.el8_8"}]
arches: [{name: x86_64}, {name: aarch64, queue: arm-builders}]
builder: {kind: mock, mock: {templates: {el8: "centos-stream-8-{arch}"}}}
kmods: [{name: e1000e, source: elrepo, rebuild: always}]
gate: {on: []}
`)
	if ps != nil {
		t.Fatal(ps)
	}
	if c.Temporal.Address != DefaultAddress || c.Temporal.Namespace != "kabi" {
		t.Errorf("temporal = %+v", c.Temporal)
	}
	kinds := []SourceKind{c.Sources[0].Kind, c.Sources[1].Kind, c.Sources[2].Kind}
	if !slices.Equal(kinds, []SourceKind{SourceRPMMD, SourceS3, SourceDistGit}) {
		t.Errorf("kinds from URLs = %v", kinds)
	}
	if c.Sources[0].PollInterval != DefaultPollInterval || c.Sources[1].PollInterval != time.Hour {
		t.Errorf("poll intervals = %v, %v", c.Sources[0].PollInterval, c.Sources[1].PollInterval)
	}
	if got := c.Streams[0].Arches; !slices.Equal(got, []string{"x86_64", "aarch64"}) {
		t.Errorf("stream arches default to all: %v", got)
	}
	if c.Arches[0].Queue != "build-x86_64" || c.Arches[1].Queue != "arm-builders" {
		t.Errorf("queues = %+v", c.Arches)
	}
	if c.Builder.Isolation != IsolationNspawn {
		t.Errorf("mock isolation default = %q", c.Builder.Isolation)
	}
	if tpl, ok := c.Builder.Mock.Template("el8", "aarch64"); !ok || tpl != "centos-stream-8-aarch64" {
		t.Errorf("Template(el8, aarch64) = %q, %v", tpl, ok)
	}
	if k := c.Kmods[0]; k.Package != "kmod-e1000e" || k.Rebuild != RebuildAlways {
		t.Errorf("kmod = %+v", k)
	}
	if c.Gate.On == nil || len(c.Gate.On) != 0 || slices.Contains(c.Gate.On, pipeline.GateKmodFailed) {
		t.Errorf("explicit empty gate.on must never hold: %#v", c.Gate.On)
	}
}

func TestEnvironmentOverrides(t *testing.T) {
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "api.key")
	passFile := filepath.Join(dir, "pass")
	os.WriteFile(keyFile, []byte("from-file-key\n"), 0o600)
	os.WriteFile(passFile, []byte("file pass \n"), 0o600)
	text := "temporal: {api_key_file: api.key}\nsigning: {passphrase_file: pass}\n"
	env := map[string]string{}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }

	c, err := Parse([]byte(text), filepath.Join(dir, "k.yaml"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Temporal.APIKey.Reveal() != "from-file-key" || c.Signing.Passphrase.Reveal() != "file pass " {
		t.Errorf("secrets from files: %q %q", c.Temporal.APIKey.Reveal(), c.Signing.Passphrase.Reveal())
	}

	env[EnvTemporalAPIKey] = "env-key"
	env[EnvSigningPassphrase] = "env-pass"
	env[EnvTemporalAddress] = "temporal.example.org:7233"
	env[EnvTemporalNamespace] = "prod"
	c, err = Parse([]byte(text), filepath.Join(dir, "k.yaml"), lookup)
	if err != nil {
		t.Fatal(err)
	}
	if c.Temporal.APIKey.Reveal() != "env-key" || c.Signing.Passphrase.Reveal() != "env-pass" ||
		c.Temporal.Address != "temporal.example.org:7233" || c.Temporal.Namespace != "prod" {
		t.Errorf("environment did not win: %+v", c.Temporal)
	}

	env[EnvTemporalAddress] = "no-port"
	_, err = Parse([]byte(text), filepath.Join(dir, "k.yaml"), lookup)
	want := `temporal.address: "no-port" is not host:port; e.g. 127.0.0.1:7233 or my-ns.tmprl.cloud:7233 (from $KABIFORGE_TEMPORAL_ADDRESS)`
	if err == nil || err.Error() != filepath.Join(dir, "k.yaml")+": "+want {
		t.Errorf("bad env value: got %v, want the file (no line) and %q", err, want)
	}
}

func TestLocate(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	env := func(v string) LookupEnv {
		return func(k string) (string, bool) { return v, k == EnvConfig && v != "" }
	}
	if got := Locate("", env("")); got != "" {
		t.Errorf("no flag, env or file: %q, want defaults", got)
	}
	os.WriteFile(DefaultFile, nil, 0o644)
	if got := Locate("", env("")); got != DefaultFile {
		t.Errorf("file in working dir: %q", got)
	}
	if got := Locate("", env("/etc/k.yaml")); got != "/etc/k.yaml" {
		t.Errorf("env: %q", got)
	}
	if got := Locate("flag.yaml", env("/etc/k.yaml")); got != "flag.yaml" {
		t.Errorf("flag: %q", got)
	}
}

func TestExamplePassesCheck(t *testing.T) {
	dir := t.TempDir()
	c, ps := parse(t, dir, string(Example()))
	if ps != nil {
		t.Fatalf("the example has problems:\n%v", ps)
	}
	d := Default()
	d.File = c.File
	d.resolvePaths(dir)
	d.fill()
	d.Kmods = c.Kmods // the example shows one kmod; the defaults have none
	d.Builder.Mock = c.Builder.Mock
	d.Streams[0].KabiPolicy = c.Streams[0].KabiPolicy // the example shows a policy; the default has none
	d.Streams[0].References = c.Streams[0].References // and a reference kernel line
	d.Sources[0].Keys = []string{}                    // the example shows keys: []
	if !reflect.DeepEqual(c, d) {
		t.Errorf("the example's values differ from the defaults:\n%v\nvs\n%v", c, d)
	}
}

func TestExampleNamesEverySetting(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal(Example(), &doc); err != nil {
		t.Fatal(err)
	}
	w := newWalker()
	w.walk(&doc, reflect.TypeOf(Config{}), "")
	shown := map[string]bool{}
	for _, paths := range w.keys {
		for _, p := range paths {
			shown[stripIndexes(p)] = true
		}
	}
	for _, p := range fieldPaths(reflect.TypeOf(Config{}), "") {
		if !shown[p] {
			t.Errorf("the example does not show %s", p)
		}
	}
}

// fieldPaths lists the YAML paths of every field of t, lists without indexes.
func fieldPaths(t reflect.Type, prefix string) []string {
	var out []string
	for name, ft := range yamlFields(t) {
		p := join(prefix, name)
		out = append(out, p)
		if ft.Kind() == reflect.Slice {
			ft = ft.Elem()
		}
		if ft.Kind() == reflect.Struct {
			out = append(out, fieldPaths(ft, p)...)
		}
	}
	return out
}

func stripIndexes(p string) string {
	var b strings.Builder
	skip := false
	for _, r := range p {
		switch {
		case r == '[':
			skip = true
		case r == ']':
			skip = false
		case !skip:
			b.WriteRune(r)
		}
	}
	return b.String()
}
