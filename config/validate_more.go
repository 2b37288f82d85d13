package config

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
)

// minPoll is the shortest poll interval accepted: listing a large upstream
// more often is abuse, not freshness.
const minPoll = 10 * time.Second

func (c *Config) validateBuilder(ps *problems) {
	b := c.Builder
	if !checkEnum(ps, "builder.kind", string(b.Kind), string(BuilderMock), string(BuilderRPMBuild)) {
		return
	}
	if b.Kind == BuilderMock {
		checkEnum(ps, "builder.isolation", string(b.Isolation), string(IsolationNspawn), string(IsolationSimple))
	} else if b.Isolation != "" {
		ps.add("builder.isolation", "applies to mock only; remove it or set kind: mock")
	}
	checkMin(ps, "builder.time_limit", b.TimeLimit, time.Minute)
	checkMin(ps, "builder.heartbeat_timeout", b.HeartbeatTimeout, 2*time.Second)
	if b.Concurrency < 1 {
		ps.add("builder.concurrency", "%d builds at once; use at least 1", b.Concurrency)
	}
	if b.KmodParallel < 1 {
		ps.add("builder.kmod_parallel", "%d kmod rebuilds at once; use at least 1", b.KmodParallel)
	}
	streams := c.streamNames()
	for _, name := range sortedKeys(b.Mock.Templates) {
		p := "builder.mock.templates." + name
		if !slices.Contains(streams, name) {
			ps.add(p, "no stream named %q; templates are keyed by stream name (%s)", name, strings.Join(streams, ", "))
		}
		if b.Mock.Templates[name] == "" {
			ps.add(p, "empty; name a mock config such as centos-stream-8-{arch}")
		}
	}
	if b.Kind != BuilderMock {
		return
	}
	if d := b.Mock.ConfigDir; d != "" && !filepath.IsAbs(d) {
		ps.add("builder.mock.config_dir", "%q is relative; mock needs an absolute config dir such as /etc/mock", d)
	}
	for i, st := range c.Streams {
		t, ok := b.Mock.Templates[st.Name]
		switch {
		case !ok:
			ps.add("builder.mock.templates", "no mock template for stream %q (streams[%d]); add a line %s: <mock config>, such as centos-stream-8-{arch}", st.Name, i, st.Name)
		case len(st.Arches) > 1 && !strings.Contains(t, "{arch}"):
			ps.add("builder.mock.templates."+st.Name, "%q has no {arch} but the stream builds %s; write e.g. centos-stream-8-{arch}", t, strings.Join(st.Arches, ", "))
		}
	}
}

func (c *Config) validateKmods(ps *problems) {
	seen := map[string]string{}
	for i, k := range c.Kmods {
		p := fmt.Sprintf("kmods[%d]", i)
		checkName(ps, p+".name", k.Name, "kmod", seen)
		c.checkRef(ps, p+".source", k.Source, "source", c.sourceNames())
		checkEnum(ps, p+".rebuild", string(k.Rebuild), string(RebuildOnBreak), string(RebuildAlways))
		for j, s := range k.Streams {
			if !slices.Contains(c.streamNames(), s) {
				ps.add(fmt.Sprintf("%s.streams[%d]", p, j), "no stream named %q; use %s", s, oneOf(c.streamNames()...))
			}
		}
	}
}

func (c *Config) validateGate(ps *problems) {
	g := c.Gate
	var conds []string
	for _, c := range pipeline.GateConditions {
		conds = append(conds, string(c))
	}
	for i, on := range g.On {
		if !slices.Contains(pipeline.GateConditions, on) {
			ps.add(fmt.Sprintf("gate.on[%d]", i), "%q is not a gate condition; use %s", on, oneOf(conds...))
		}
	}
	switch {
	case g.Timeout < 0:
		ps.add("gate.timeout", "%s is negative; leave it out to wait for an operator without limit", g.Timeout)
	case g.Timeout > 0 && g.TimeoutAction == "":
		ps.add("gate.timeout_action", "required with gate.timeout; approve or reject")
	case g.Timeout == 0 && g.TimeoutAction != "":
		ps.add("gate.timeout_action", "set without gate.timeout; add a timeout such as 72h or remove the action")
	}
	if g.TimeoutAction != "" {
		checkEnum(ps, "gate.timeout_action", string(g.TimeoutAction), string(GateApprove), string(GateReject))
	}
}

func (c *Config) validateSigning(ps *problems) {
	s := c.Signing
	if s.Key == "" {
		ps.add("signing.key", "required; an armored OpenPGP private key file (kabiforge key generate makes one)")
	} else if !s.Generate {
		checkFile(ps, "signing.key", s.Key)
	}
	checkFile(ps, "signing.passphrase_file", s.PassphraseFile)
	switch {
	case (s.ModuleKey == "") != (s.ModuleCert == ""):
		ps.add("signing.module_key", "module_key and module_cert go together; give both or neither")
	case s.ModuleSigning() && !s.Generate:
		checkFile(ps, "signing.module_key", s.ModuleKey)
		checkFile(ps, "signing.module_cert", s.ModuleCert)
	}
}

func (c *Config) validateStores(ps *problems) {
	checkStoreURL(ps, "stores.artifacts", c.Stores.Artifacts)
	if len(c.Stores.Repositories) == 0 {
		ps.add("stores.repositories", "empty; list at least one repository, e.g. - name: el8")
	}
	seen := map[string]string{}
	for i, r := range c.Stores.Repositories {
		p := fmt.Sprintf("stores.repositories[%d]", i)
		checkName(ps, p+".name", r.Name, "repository", seen)
		if r.Name == "" {
			continue
		}
		checkStoreURL(ps, p+".url", r.URL)
		if r.BaseURL == "" {
			ps.add(p+".baseurl", "required when http.repo (%s) is not an address clients can use; give the URL dnf clients use", c.HTTP.Repo)
		} else {
			checkURL(ps, p+".baseurl", r.BaseURL, true, "https", "http", "file")
		}
	}
	if c.S3.Endpoint != "" {
		checkURL(ps, "s3.endpoint", c.S3.Endpoint, true, "https", "http")
	}
}

func (c *Config) validateRetention(ps *problems) {
	if c.Retention.Kernels < 1 {
		ps.add("retention.kernels", "%d; keep at least 1 kernel per arch", c.Retention.Kernels)
	}
	if c.Retention.Window < time.Minute {
		ps.add("retention.window", "%s is too short; clients mid-download need old metadata for a while (default 48h)", c.Retention.Window)
	}
}

func (c *Config) validateHTTP(ps *problems) {
	checkHostPort(ps, "http.repo", c.HTTP.Repo, "e.g. 127.0.0.1:8080")
	checkHostPort(ps, "http.ui", c.HTTP.UI, "e.g. 127.0.0.1:8233")
	if c.HTTP.Metrics != "" {
		checkHostPort(ps, "http.metrics", c.HTTP.Metrics, "e.g. 127.0.0.1:9090")
	}
	seen := map[string]string{}
	for _, l := range []struct{ path, addr string }{{"http.repo", c.HTTP.Repo}, {"http.ui", c.HTTP.UI}, {"http.metrics", c.HTTP.Metrics}} {
		if l.addr == "" || strings.HasSuffix(l.addr, ":0") {
			continue
		}
		if first, dup := seen[l.addr]; dup {
			ps.add(l.path, "%s is also %s; each server needs its own port", l.addr, first)
		}
		seen[l.addr] = l.path
	}
}

// checkEnum reports v when it is not one of choices, and says whether it is.
func checkEnum(ps *problems, p, v string, choices ...string) bool {
	if slices.Contains(choices, v) {
		return true
	}
	if v == "" {
		ps.add(p, "required; use %s", oneOf(choices...))
	} else {
		ps.add(p, "%q is not one of %s", v, oneOf(choices...))
	}
	return false
}

// checkMin reports a duration shorter than least.
func checkMin(ps *problems, p string, d, least time.Duration) {
	if d < least {
		ps.add(p, "%s is too short; use at least %s", d, least)
	}
}

// checkFile reports a named file that does not exist or is not a regular file.
func checkFile(ps *problems, p, name string) {
	if name == "" {
		return
	}
	fi, err := os.Stat(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		ps.add(p, "file %s not found", name)
	case err != nil:
		ps.add(p, "cannot read %s: %v", name, errors.Unwrap(err))
	case fi.IsDir():
		ps.add(p, "%s is a directory, not a file", name)
	}
}

// checkTLS checks the files of a TLS client.
func checkTLS(ps *problems, p string, t TLS) {
	checkFile(ps, p+".ca", t.CA)
	checkFile(ps, p+".cert", t.Cert)
	checkFile(ps, p+".key", t.Key)
	if t.Cert != "" && t.Key == "" {
		ps.add(p+".key", "required with cert; a client certificate needs its private key")
	}
	if t.Key != "" && t.Cert == "" {
		ps.add(p+".cert", "required with key; a private key needs its client certificate")
	}
}

// checkURL checks that u is an absolute URL with one of schemes.
func checkURL(ps *problems, p, u string, required bool, schemes ...string) {
	if u == "" {
		if required {
			ps.add(p, "required; a %s URL", oneOf(schemes...))
		}
		return
	}
	if !strings.Contains(u, "://") {
		ps.add(p, "%q has no scheme; use a %s URL", u, oneOf(schemes...))
		return
	}
	pu, err := url.Parse(u)
	switch {
	case err != nil:
		ps.add(p, "%q is not a URL: %v", u, unwrapURLError(err))
	case !slices.Contains(schemes, pu.Scheme):
		ps.add(p, "scheme %q not supported; use %s", pu.Scheme, oneOf(schemes...))
	case pu.Scheme != "file" && pu.Host == "":
		ps.add(p, "%q has no host", u)
	}
}

// checkStoreURL checks a dir:// or s3:// store URL.
func checkStoreURL(ps *problems, p, u string) {
	if u == "" {
		ps.add(p, "required; dir:///path or s3://bucket/prefix")
		return
	}
	if _, ok := DirPath(u); ok {
		return
	}
	pu, err := url.Parse(u)
	switch {
	case err != nil:
		ps.add(p, "%q is not a URL: %v", u, unwrapURLError(err))
	case pu.Scheme != "s3":
		ps.add(p, "scheme %q not supported; use dir or s3", pu.Scheme)
	case pu.Host == "":
		ps.add(p, "%q names no bucket; use s3://bucket/prefix", u)
	}
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
