// Package config holds kabiforge's configuration: one YAML file
// (kabiforge.yaml) with its types, defaults, environment overrides and
// validation.
//
// Load reads a file strictly (an unknown field is an error with its line),
// fills in defaults, applies environment overrides for secrets and reports
// every problem at once, each with its field path and a hint. With no file
// at all the defaults run `kabiforge dev` on one machine: a local upstream
// folder, the rpmbuild builder, stores and a generated signing key under
// ./kabiforge-data.
//
// Relative paths in a file are relative to the file's folder. Load makes every
// path absolute, including dir:// store URLs (dir:///abs/path).
package config

import (
	"time"

	"github.com/kabiforge/kabiforge/pipeline"
	"github.com/kabiforge/kabiforge/repo/kabi"
)

// Config is the whole configuration of kabiforge.
type Config struct {
	// DataDir holds local state: the dev server's database, dir:// stores and
	// generated keys. Default ./kabiforge-data.
	DataDir string `yaml:"data_dir"`
	// LogLevel is debug, info, warn or error. Default info.
	LogLevel  string    `yaml:"log_level"`
	Temporal  Temporal  `yaml:"temporal"`
	Sources   []Source  `yaml:"sources"`
	Streams   []Stream  `yaml:"streams"`
	Arches    []Arch    `yaml:"arches"`
	Builder   Builder   `yaml:"builder"`
	Kmods     []Kmod    `yaml:"kmods"`
	Gate      Gate      `yaml:"gate"`
	Signing   Signing   `yaml:"signing"`
	Stores    Stores    `yaml:"stores"`
	S3        S3        `yaml:"s3"`
	Retention Retention `yaml:"retention"`
	HTTP      HTTP      `yaml:"http"`

	// File is the file the configuration was loaded from; "" for defaults.
	File string `yaml:"-"`
}

// Temporal says how to reach the Temporal service.
type Temporal struct {
	// Address is host:port of the frontend. Default 127.0.0.1:7233.
	Address string `yaml:"address"`
	// Namespace default "default".
	Namespace string `yaml:"namespace"`
	// TaskQueue is the control queue for the pipeline workflows and their
	// light activities. Default "kabiforge".
	TaskQueue string `yaml:"task_queue"`
	// TLS enables TLS (mTLS with Cert and Key) to the frontend.
	TLS TLS `yaml:"tls"`
	// APIKeyFile holds an API key (Temporal Cloud). KABIFORGE_TEMPORAL_API_KEY overrides it.
	APIKeyFile string `yaml:"api_key_file"`
	// APIKey is read from KABIFORGE_TEMPORAL_API_KEY or APIKeyFile; never printed.
	APIKey Secret `yaml:"-"`
}

// TLS names the files of a TLS client: CA bundle, client certificate and key.
type TLS struct {
	// Enabled turns TLS on with the system roots even when no file is set.
	Enabled    bool   `yaml:"enabled"`
	CA         string `yaml:"ca"`
	Cert       string `yaml:"cert"`
	Key        string `yaml:"key"`
	ServerName string `yaml:"server_name"`
}

// Active reports whether TLS is to be used: enabled explicitly or implied by a file or server name.
func (t TLS) Active() bool {
	return t.Enabled || t.CA != "" || t.Cert != "" || t.Key != "" || t.ServerName != ""
}

// SourceKind is how a source lists and serves source packages.
type SourceKind string

// Source kinds.
const (
	SourceRPMMD   SourceKind = "rpm-md"   // a yum repository of SRPMs (https, http, file)
	SourceDir     SourceKind = "dir"      // a folder of *.rpm (SRPMs, a reference kernel's kernel-core), or an HTTP index of *.src.rpm
	SourceS3      SourceKind = "s3"       // a bucket prefix
	SourceDistGit SourceKind = "dist-git" // CentOS-style dist-git with a lookaside cache
)

// Source is a place kernel and kmod source RPMs come from.
type Source struct {
	// Name is unique; the watch schedule is "watch/<name>".
	Name string `yaml:"name"`
	// Kind defaults from the URL: s3:// is s3, a path or file:// is dir, http(s) is rpm-md.
	Kind SourceKind `yaml:"kind"`
	// URL of the repository, folder, bucket prefix or git remote.
	URL string `yaml:"url"`
	// TLS holds the client certificate, key and CA of an entitlement (RHEL CDN).
	TLS TLS `yaml:"tls"`
	// Keys are OpenPGP public key files; each SRPM must be signed by one of them.
	Keys []string `yaml:"keys"`
	// Unsigned accepts packages without verifying signatures. Only by explicit choice.
	Unsigned bool `yaml:"unsigned"`
	// RepoGPGCheck verifies repomd.xml.asc of an rpm-md source with Keys.
	RepoGPGCheck bool `yaml:"repo_gpgcheck"`
	// PollInterval is how often KernelWatch lists the source. Default 5m.
	PollInterval time.Duration `yaml:"poll_interval"`
	// Branch is the dist-git branch (imports/<branch>/kernel-<NVR>), dist-git only.
	Branch string `yaml:"branch"`
	// Lookaside is the lookaside cache URL, dist-git only.
	Lookaside string `yaml:"lookaside"`
}

// Stream is a tracked line of kernels, such as el8: version 4.18.0 with
// releases matching *.el8*.
type Stream struct {
	Name string `yaml:"name"`
	// Source names the source whose kernels this stream tracks. Default: the only source.
	Source string `yaml:"source"`
	// Version is the kernel version prefix, e.g. 4.18.0.
	Version string `yaml:"version"`
	// Release is a glob (path.Match) over the release, e.g. *.el8*.
	Release string `yaml:"release"`
	// Arches to build; each must be listed under arches. Default: all of them.
	Arches []string `yaml:"arches"`
	// Repository names the repository the stream publishes to. Default: the only repository.
	Repository string `yaml:"repository"`
	// KabiPolicy decides which kABI breaks hold the release, fail a kmod or
	// are ignored. Default: every break fails the kmod (it is rebuilt).
	KabiPolicy *kabi.Policy `yaml:"kabi_policy"`
	// References are kernel lines watched for drift against this stream's
	// published kmods (e.g. CentOS Stream's kernels beside RHEL's): never
	// rebuilt, never published; each new one gets a drift report.
	References []Reference `yaml:"references"`
}

// Reference is a kernel line a stream's published kmods are checked
// against: kernel-core packages (or kernel SRPMs) at a configured source
// whose version starts with Version and whose release matches Release.
// Its packages are fetched and verified like any other source's.
type Reference struct {
	// Source names the source listing the reference kernels. Default: the only source.
	Source string `yaml:"source"`
	// Version is the kernel version prefix, e.g. 5.14.0.
	Version string `yaml:"version"`
	// Release is a glob (path.Match) over the release, e.g. *.el9.
	Release string `yaml:"release"`
}

// Arch is a build architecture and the task queue its builders poll.
type Arch struct {
	Name string `yaml:"name"`
	// Queue default "build-<name>".
	Queue string `yaml:"queue"`
	// BootTest is on to boot every kernel with its kmods in a VM before
	// the gate, or off (the default: it needs hosts with qemu serving
	// Boot.Queue); status then says kmods are "CRC-compatible, not
	// boot-tested".
	BootTest string `yaml:"boot_test"`
	// Boot configures the VM when BootTest is on.
	Boot Boot `yaml:"boot"`
}

// BuilderKind is the tool that builds packages.
type BuilderKind string

// Builder kinds.
const (
	BuilderMock     BuilderKind = "mock"     // production: a clean chroot per build
	BuilderRPMBuild BuilderKind = "rpmbuild" // the host's rpmbuild: local runs and tests
)

// Isolation is mock's isolation mode.
type Isolation string

// Isolation modes of mock.
const (
	IsolationNspawn Isolation = "nspawn"
	IsolationSimple Isolation = "simple"
)

// Builder says how packages are built.
type Builder struct {
	// Kind default rpmbuild.
	Kind BuilderKind `yaml:"kind"`
	// Isolation is mock's --isolation; default nspawn with mock, unset with rpmbuild.
	Isolation Isolation `yaml:"isolation"`
	// TimeLimit bounds one build. Default 12h.
	TimeLimit time.Duration `yaml:"time_limit"`
	// HeartbeatTimeout is how long a build host may stay silent (killed,
	// cut off) before its build is given to another host. Default 2m.
	HeartbeatTimeout time.Duration `yaml:"heartbeat_timeout"`
	// Concurrency is how many builds one worker runs at once. Default 1.
	Concurrency int `yaml:"concurrency"`
	// KmodParallel is how many kmod rebuilds one kernel rebuild runs at once. Default 8.
	KmodParallel int `yaml:"kmod_parallel"`
	// Mock holds mock's settings.
	Mock Mock `yaml:"mock"`
}

// Mock holds mock's settings.
type Mock struct {
	// Templates maps a stream name to a mock config (-r), e.g.
	// el8: centos-stream-8-{arch}; {arch} is replaced by the build arch.
	Templates map[string]string `yaml:"templates"`
	// ConfigDir is mock's config dir (--configdir); default /etc/mock. The
	// stock configs include /etc/mock/templates by absolute path, so those
	// must exist in /etc/mock whatever the config dir.
	ConfigDir string `yaml:"config_dir"`
	// User is the unprivileged user, in the mock group, that mock builds as
	// when the worker runs as root; default the worker's SUDO_UID.
	User string `yaml:"user"`
}

// Template returns the mock config for a stream and arch, and whether one is configured.
func (m Mock) Template(stream, arch string) (string, bool) {
	t, ok := m.Templates[stream]
	if !ok {
		return "", false
	}
	return expandArch(t, arch), true
}

// RebuildPolicy says when a kmod is rebuilt for a new kernel.
type RebuildPolicy string

// Rebuild policies.
const (
	RebuildOnBreak RebuildPolicy = "on-break" // only when the new kernel breaks its kABI
	RebuildAlways  RebuildPolicy = "always"   // for every new kernel
)

// Kmod is an out-of-tree driver package kept compatible with the kernels.
type Kmod struct {
	// Name of the kmod, e.g. e1000e.
	Name string `yaml:"name"`
	// Package is the name of its source package. Default kmod-<name>.
	Package string `yaml:"package"`
	// Source names the source of its SRPM. Default: the only source.
	Source string `yaml:"source"`
	// Rebuild default on-break.
	Rebuild RebuildPolicy `yaml:"rebuild"`
	// Streams it is built for. Default: all.
	Streams []string `yaml:"streams"`
}

// GateAction is what happens when the gate's timeout expires.
type GateAction string

// Gate actions.
const (
	GateApprove GateAction = "approve"
	GateReject  GateAction = "reject"
)

// Gate says when a kernel waits for approve/reject before publishing.
type Gate struct {
	// On lists the conditions that hold a kernel. Default kmod-failed, stablelist-changed.
	// An explicit empty list never holds.
	On []pipeline.GateCondition `yaml:"on"`
	// Timeout, if set, ends the wait with TimeoutAction. Default: wait forever.
	Timeout time.Duration `yaml:"timeout"`
	// TimeoutAction is approve or reject; required with Timeout.
	TimeoutAction GateAction `yaml:"timeout_action"`
}

// Signing names the key that signs packages and repository metadata.
type Signing struct {
	// Key is an armored OpenPGP private key file. Default <data_dir>/keys/signing.asc.
	Key string `yaml:"key"`
	// Generate creates Key when it does not exist (the default for the default key).
	Generate bool `yaml:"generate"`
	// PassphraseFile holds the key's passphrase. KABIFORGE_SIGNING_PASSPHRASE overrides it.
	PassphraseFile string `yaml:"passphrase_file"`
	// Passphrase is read from KABIFORGE_SIGNING_PASSPHRASE or PassphraseFile; never printed.
	Passphrase Secret `yaml:"-"`
	// ModuleKey is the PEM private key that signs kernel modules and kernel
	// images for Secure Boot; ModuleCert its X.509 certificate (DER), published
	// for mokutil. Both default to module-signing.pem/.der beside the default
	// Key; "" with a Key of your own turns module signing off.
	ModuleKey  string `yaml:"module_key"`
	ModuleCert string `yaml:"module_cert"`
}

// ModuleSigning reports whether a module-signing key is configured.
func (s Signing) ModuleSigning() bool { return s.ModuleKey != "" && s.ModuleCert != "" }

// Stores says where build artifacts and repositories live.
type Stores struct {
	// Artifacts is a dir:// or s3:// URL for SRPMs, build outputs, logs and reports.
	// Default dir://<data_dir>/artifacts.
	Artifacts string `yaml:"artifacts"`
	// Repositories are the published dnf repositories.
	Repositories []Repository `yaml:"repositories"`
}

// Repository is one published dnf repository.
type Repository struct {
	Name string `yaml:"name"`
	// URL is a dir:// or s3:// URL. Default dir://<data_dir>/repos/<name>.
	URL string `yaml:"url"`
	// BaseURL is what dnf clients use. Default http://<http.repo>/<name>/.
	BaseURL string `yaml:"baseurl"`
}

// S3 holds settings for every s3:// URL. Credentials come from the AWS
// default chain (AWS_ACCESS_KEY_ID, profiles, instance roles).
type S3 struct {
	// Endpoint of an S3-compatible service; "" for AWS.
	Endpoint string `yaml:"endpoint"`
	Region   string `yaml:"region"`
	// PathStyle addresses buckets as endpoint/bucket (most non-AWS services).
	PathStyle bool `yaml:"path_style"`
}

// Retention says how much the publisher keeps.
type Retention struct {
	// Kernels is how many kernels per arch stay in a repository. Default 3.
	Kernels int `yaml:"kernels"`
	// Window is how long replaced metadata and packages stay readable. Default 48h.
	Window time.Duration `yaml:"window"`
}

// HTTP holds listen addresses (host:port).
type HTTP struct {
	// Repo serves the repositories. Default 127.0.0.1:8080.
	Repo string `yaml:"repo"`
	// UI is the Temporal UI of the dev server. Default 127.0.0.1:8233.
	UI string `yaml:"ui"`
	// Metrics serves Prometheus metrics; "" turns it off.
	Metrics string `yaml:"metrics"`
}
