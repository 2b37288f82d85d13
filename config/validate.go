package config

import (
	"fmt"
	"net"
	"net/url"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Validate checks the configuration as it stands (defaults filled in) and
// returns every problem, each with its field path and a hint. It also checks
// that the files the configuration names exist. Load calls it.
func (c *Config) Validate() Problems {
	ps := &problems{}
	if c.DataDir == "" {
		ps.add("data_dir", "required; kabiforge keeps local state there (default ./kabiforge-data)")
	}
	checkEnum(ps, "log_level", c.LogLevel, "debug", "info", "warn", "error")
	c.validateTemporal(ps)
	c.validateSources(ps)
	c.validateArches(ps)
	c.validateStreams(ps)
	c.validateBuilder(ps)
	c.validateKmods(ps)
	c.validateGate(ps)
	c.validateSigning(ps)
	c.validateStores(ps)
	c.validateRetention(ps)
	c.validateHTTP(ps)
	return ps.list
}

func (c *Config) validateTemporal(ps *problems) {
	t := c.Temporal
	checkHostPort(ps, "temporal.address", t.Address, "e.g. 127.0.0.1:7233 or my-ns.tmprl.cloud:7233")
	if t.Namespace == "" {
		ps.add("temporal.namespace", "required; e.g. default")
	}
	if t.TaskQueue == "" {
		ps.add("temporal.task_queue", "required; e.g. kabiforge")
	}
	checkTLS(ps, "temporal.tls", t.TLS)
	checkFile(ps, "temporal.api_key_file", t.APIKeyFile)
}

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// checkName checks a name that other sections refer to and that appears in
// workflow IDs and paths, and that it is unique among seen.
func checkName(ps *problems, p, name, what string, seen map[string]string) {
	switch {
	case name == "":
		ps.add(p, "required; every %s needs a unique name", what)
		return
	case !nameRE.MatchString(name):
		ps.add(p, "%q is not a valid name; use lower-case letters, digits, '.', '_' and '-'", name)
	}
	if first, dup := seen[name]; dup {
		ps.add(p, "%q already used by %s; names must be unique", name, first)
		return
	}
	seen[name] = strings.TrimSuffix(p, ".name")
}

var sourceSchemes = map[SourceKind][]string{
	SourceRPMMD:   {"https", "http", "file"},
	SourceDir:     {"https", "http", "file"},
	SourceS3:      {"s3"},
	SourceDistGit: {"https", "http", "file", "ssh", "git"},
}

func (c *Config) validateSources(ps *problems) {
	seen := map[string]string{}
	for i, s := range c.Sources {
		p := fmt.Sprintf("sources[%d]", i)
		checkName(ps, p+".name", s.Name, "source", seen)
		c.validateSourceURL(ps, p, s)
		checkTLS(ps, p+".tls", s.TLS)
		switch {
		case s.Unsigned && len(s.Keys) > 0:
			ps.add(p+".unsigned", "true while keys are set; remove one: keys verify packages, unsigned skips verification")
		case !s.Unsigned && len(s.Keys) == 0:
			ps.add(p+".keys", "no upstream keys; add the OpenPGP public key files that sign these packages, or set unsigned: true to accept them unverified")
		case s.RepoGPGCheck && s.Unsigned:
			ps.add(p+".repo_gpgcheck", "needs keys; remove unsigned: true and list the keys")
		}
		for j, k := range s.Keys {
			checkFile(ps, fmt.Sprintf("%s.keys[%d]", p, j), k)
		}
		if s.RepoGPGCheck && s.Kind != SourceRPMMD {
			ps.add(p+".repo_gpgcheck", "applies to kind rpm-md only")
		}
		checkMin(ps, p+".poll_interval", s.PollInterval, minPoll)
		if s.Kind == SourceDistGit {
			if s.Branch == "" {
				ps.add(p+".branch", "required for dist-git; e.g. c8 (tags imports/c8/kernel-<NVR>)")
			}
			checkURL(ps, p+".lookaside", s.Lookaside, true, "https", "http", "file")
		} else {
			if s.Branch != "" {
				ps.add(p+".branch", "applies to kind dist-git only")
			}
			if s.Lookaside != "" {
				ps.add(p+".lookaside", "applies to kind dist-git only")
			}
		}
	}
}

func (c *Config) validateSourceURL(ps *problems, p string, s Source) {
	schemes, known := sourceSchemes[s.Kind]
	switch {
	case s.Kind != "" && !known:
		ps.add(p+".kind", "%q is not a source kind; use %s", s.Kind, oneOf(sourceKinds...))
		return
	case s.URL == "":
		ps.add(p+".url", "required; e.g. https://vault.example.org/8/BaseOS/Source/, file:///srv/srpms or s3://bucket/prefix")
		return
	case !strings.Contains(s.URL, "://"):
		if s.Kind != SourceDir {
			ps.add(p+".url", "%q is a path; kind %s needs a URL such as file://%s", s.URL, s.Kind, s.URL)
		}
		return
	}
	u, err := url.Parse(s.URL)
	switch {
	case err != nil:
		ps.add(p+".url", "%q is not a URL: %v", s.URL, unwrapURLError(err))
	case !slices.Contains([]string{"https", "http", "file", "s3", "ssh", "git"}, u.Scheme):
		ps.add(p+".url", "scheme %q not supported; use https, http, file or s3", u.Scheme)
	case s.Kind == "":
		ps.add(p+".kind", "required with %s URLs; use %s", u.Scheme, oneOf(sourceKinds...))
	case !slices.Contains(schemes, u.Scheme):
		ps.add(p+".url", "kind %s cannot read %s URLs; use an %s URL or another kind", s.Kind, u.Scheme, oneOf(schemes...))
	case u.Scheme != "file" && u.Host == "":
		ps.add(p+".url", "%q has no host", s.URL)
	}
}

var sourceKinds = []string{string(SourceRPMMD), string(SourceDir), string(SourceS3), string(SourceDistGit)}

func (c *Config) validateArches(ps *problems) {
	if len(c.Arches) == 0 {
		ps.add("arches", "empty; list at least one arch, e.g. - name: x86_64")
	}
	seen := map[string]string{}
	for i, a := range c.Arches {
		p := fmt.Sprintf("arches[%d]", i)
		checkName(ps, p+".name", a.Name, "arch", seen)
		if a.Name != "" && !slices.Contains(knownArches, a.Name) {
			if alias, ok := archAliases[a.Name]; ok {
				ps.add(p+".name", "unknown arch %q; did you mean %s?", a.Name, alias)
			} else {
				ps.add(p+".name", "unknown arch %q; use %s", a.Name, oneOf(knownArches...))
			}
		}
		validateBoot(ps, p, a)
		if a.Queue == c.Temporal.TaskQueue {
			ps.add(p+".queue", "%q is temporal.task_queue, the control queue; give builders their own queue (default build-%s)", a.Queue, a.Name)
		}
	}
}

var knownArches = []string{"x86_64", "aarch64", "ppc64le", "s390x"}

var archAliases = map[string]string{"amd64": "x86_64", "x64": "x86_64", "arm64": "aarch64", "ppc64el": "ppc64le"}

func (c *Config) validateStreams(ps *problems) {
	if len(c.Streams) == 0 {
		ps.add("streams", "empty; track at least one kernel stream, e.g. - name: el8")
	}
	seen := map[string]string{}
	for i, st := range c.Streams {
		p := fmt.Sprintf("streams[%d]", i)
		checkName(ps, p+".name", st.Name, "stream", seen)
		c.checkRef(ps, p+".source", st.Source, "source", c.sourceNames())
		if !versionRE.MatchString(st.Version) {
			ps.add(p+".version", "%q is not a kernel version prefix; e.g. 4.18.0 or 5.14.0", st.Version)
		}
		if st.Release == "" {
			ps.add(p+".release", "required; a pattern such as *.el8*")
		} else if _, err := path.Match(st.Release, ""); err != nil {
			ps.add(p+".release", "%q is not a valid pattern; use * and ?, e.g. *.el8*", st.Release)
		}
		if len(st.Arches) == 0 {
			ps.add(p+".arches", "empty; list the arches to build, e.g. [x86_64]")
		}
		for j, a := range st.Arches {
			if !slices.Contains(c.archNames(), a) {
				ps.add(fmt.Sprintf("%s.arches[%d]", p, j), "arch %q is not listed under arches; add it there or remove it here", a)
			}
		}
		c.checkRef(ps, p+".repository", st.Repository, "repository", c.repoNames())
		if st.KabiPolicy != nil {
			for _, e := range st.KabiPolicy.Problems() {
				ps.add(p+".kabi_policy."+e.Field, "%s", e.Msg)
			}
		}
		c.validateReferences(ps, p, st)
	}
}

var versionRE = regexp.MustCompile(`^[0-9]+(\.[0-9]+)*$`)

// checkRef checks that name is one of names; what says which section it refers to.
func (c *Config) checkRef(ps *problems, p, name, what string, names []string) {
	switch {
	case name == "" && len(names) == 0:
		ps.add(p, "required; no %s is configured", what)
	case name == "":
		ps.add(p, "required when there is more than one %s; use %s", what, oneOf(names...))
	case !slices.Contains(names, name):
		if len(names) == 0 {
			ps.add(p, "no %s named %q; none is configured", what, name)
		} else {
			ps.add(p, "no %s named %q; use %s", what, name, oneOf(names...))
		}
	}
}

func (c *Config) sourceNames() []string {
	var n []string
	for _, s := range c.Sources {
		if s.Name != "" && !slices.Contains(n, s.Name) {
			n = append(n, s.Name)
		}
	}
	return n
}

func (c *Config) archNames() []string {
	var n []string
	for _, a := range c.Arches {
		if a.Name != "" && !slices.Contains(n, a.Name) {
			n = append(n, a.Name)
		}
	}
	return n
}

func (c *Config) repoNames() []string {
	var n []string
	for _, r := range c.Stores.Repositories {
		if r.Name != "" && !slices.Contains(n, r.Name) {
			n = append(n, r.Name)
		}
	}
	return n
}

func (c *Config) streamNames() []string {
	var n []string
	for _, s := range c.Streams {
		if s.Name != "" && !slices.Contains(n, s.Name) {
			n = append(n, s.Name)
		}
	}
	return n
}

// checkHostPort checks a host:port address.
func checkHostPort(ps *problems, p, addr, example string) {
	if addr == "" {
		ps.add(p, "required; %s", example)
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		ps.add(p, "%q is not host:port; %s", addr, example)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		ps.add(p, "port %q is not a number from 0 to 65535", port)
	}
}

// unwrapURLError drops the "parse URL:" prefix url.Parse adds.
func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}
