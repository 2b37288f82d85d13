package config

import (
	"net"
	"path/filepath"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
)

// Default values.
const (
	DefaultDataDir      = "kabiforge-data"
	DefaultAddress      = "127.0.0.1:7233"
	DefaultNamespace    = "default"
	DefaultTaskQueue    = "kabiforge"
	DefaultRepoListen   = "127.0.0.1:8080"
	DefaultUIListen     = "127.0.0.1:8233"
	DefaultPollInterval = 5 * time.Minute
	DefaultTimeLimit    = 12 * time.Hour
	DefaultHeartbeat    = 2 * time.Minute
	// DefaultActivityTimeout bounds each short activity (fetch, analyse,
	// sign, publish): not a setting of its own.
	DefaultActivityTimeout = 30 * time.Minute
	DefaultKmodParallel    = 8
	DefaultKernels         = 3
	DefaultWindow          = 48 * time.Hour
	DefaultStream          = "el8"
	DefaultArch            = "x86_64"
	DefaultSource          = "upstream"
)

// Default returns the configuration used when there is no file: everything
// on one machine under ./kabiforge-data, as `kabiforge dev` runs it. Its paths
// are relative to the working directory; Load makes them absolute.
func Default() *Config {
	c := base()
	c.fill()
	return c
}

// base returns the defaults that do not depend on other settings. A file is
// decoded over them, so a value written in the file (even 0) wins.
func base() *Config {
	return &Config{
		DataDir:  DefaultDataDir,
		LogLevel: "info",
		Temporal: Temporal{
			Address:   DefaultAddress,
			Namespace: DefaultNamespace,
			TaskQueue: DefaultTaskQueue,
		},
		Builder: Builder{
			Kind:             BuilderRPMBuild,
			TimeLimit:        DefaultTimeLimit,
			HeartbeatTimeout: DefaultHeartbeat,
			Concurrency:      1,
			KmodParallel:     DefaultKmodParallel,
		},
		Retention: Retention{Kernels: DefaultKernels, Window: DefaultWindow},
		HTTP:      HTTP{Repo: DefaultRepoListen, UI: DefaultUIListen},
	}
}

// fill sets the defaults that depend on other settings (mostly DataDir),
// after the file has been decoded.
func (c *Config) fill() {
	data := c.DataDir
	if c.Sources == nil {
		c.Sources = []Source{{
			Name:     DefaultSource,
			Kind:     SourceDir,
			URL:      filepath.Join(data, "upstream"),
			Unsigned: true,
		}}
	}
	for i := range c.Sources {
		s := &c.Sources[i]
		if s.Kind == "" {
			s.Kind = kindFromURL(s.URL)
		}
		if s.PollInterval == 0 {
			s.PollInterval = DefaultPollInterval
		}
	}
	if c.Arches == nil {
		c.Arches = []Arch{{Name: DefaultArch}}
	}
	for i := range c.Arches {
		if c.Arches[i].Queue == "" && c.Arches[i].Name != "" {
			c.Arches[i].Queue = "build-" + c.Arches[i].Name
		}
		c.Arches[i].bootDefaults()
	}
	if c.Stores.Repositories == nil {
		c.Stores.Repositories = []Repository{{Name: DefaultStream}}
	}
	if c.Streams == nil {
		c.Streams = []Stream{{Name: DefaultStream, Version: "4.18.0", Release: "*.el8*"}}
	}
	for i := range c.Streams {
		st := &c.Streams[i]
		if st.Source == "" && len(c.Sources) == 1 {
			st.Source = c.Sources[0].Name
		}
		if st.Arches == nil {
			for _, a := range c.Arches {
				st.Arches = append(st.Arches, a.Name)
			}
		}
		if st.Repository == "" && len(c.Stores.Repositories) == 1 {
			st.Repository = c.Stores.Repositories[0].Name
		}
		c.fillReferences(st)
	}
	c.fillBuild()
	c.fillStores(data)
	if c.Signing.Key == "" {
		c.Signing.Key = filepath.Join(data, "keys", "signing.asc")
		c.Signing.Generate = true
		if c.Signing.ModuleKey == "" && c.Signing.ModuleCert == "" {
			c.Signing.ModuleKey = filepath.Join(data, "keys", "module-signing.pem")
			c.Signing.ModuleCert = filepath.Join(data, "keys", "module-signing.der")
		}
	}
}

func (c *Config) fillBuild() {
	if c.Builder.Kind == BuilderMock && c.Builder.Isolation == "" {
		c.Builder.Isolation = IsolationNspawn
	}
	for i := range c.Kmods {
		k := &c.Kmods[i]
		if k.Package == "" && k.Name != "" {
			k.Package = "kmod-" + k.Name
		}
		if k.Source == "" && len(c.Sources) == 1 {
			k.Source = c.Sources[0].Name
		}
		if k.Rebuild == "" {
			k.Rebuild = RebuildOnBreak
		}
	}
	if c.Gate.On == nil {
		c.Gate.On = []pipeline.GateCondition{pipeline.GateKmodFailed, pipeline.GateStablelistChanged}
	}
}

func (c *Config) fillStores(data string) {
	if c.Stores.Artifacts == "" {
		c.Stores.Artifacts = "dir://" + filepath.Join(data, "artifacts")
	}
	for i := range c.Stores.Repositories {
		r := &c.Stores.Repositories[i]
		if r.Name == "" {
			continue
		}
		if r.URL == "" {
			r.URL = "dir://" + filepath.Join(data, "repos", r.Name)
		}
		if r.BaseURL == "" && servesClients(c.HTTP.Repo) {
			r.BaseURL = "http://" + c.HTTP.Repo + "/" + r.Name + "/"
		}
	}
}

// servesClients reports whether a listen address is also an address clients
// can use (not 0.0.0.0, [::] or an empty host).
func servesClients(listen string) bool {
	host, _, err := net.SplitHostPort(listen)
	if err != nil || host == "" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsUnspecified()
}

// kindFromURL guesses a source's kind from its URL.
func kindFromURL(u string) SourceKind {
	switch {
	case strings.HasPrefix(u, "s3://"):
		return SourceS3
	case strings.HasPrefix(u, "http://"), strings.HasPrefix(u, "https://"):
		return SourceRPMMD
	case strings.HasPrefix(u, "file://"):
		return SourceDir
	case u == "" || strings.Contains(u, "://"):
		return "" // validation says what is wrong
	}
	return SourceDir
}

// expandArch replaces {arch} in a mock template.
func expandArch(template, arch string) string {
	return strings.ReplaceAll(template, "{arch}", arch)
}

// DirPath returns the folder of a dir:// URL and true, or "" and false for
// any other URL. Load makes these URLs absolute (dir:///abs/path).
func DirPath(u string) (string, bool) {
	p, ok := strings.CutPrefix(u, "dir://")
	if !ok || p == "" {
		return "", false
	}
	return filepath.Clean(p), true
}
