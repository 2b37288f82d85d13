package build

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/kabiforge/kabiforge/repo/rpm"
)

// KernelDevelRootMacro is the macro the Rpmbuild builder defines, for a build
// that needs kernel-devel, as the directory where it unpacked that
// kernel-devel; a kmod spec finds Module.symvers under
// %{kernel_devel_root}/usr/src/kernels/<kver>.<arch>/. In a mock buildroot
// kernel-devel is installed and the macro stays undefined.
const KernelDevelRootMacro = "kernel_devel_root"

// Rpmbuild builds on the host with rpmbuild for local runs and tests. Each
// build gets a private %_topdir and runs with --nodeps, so the host's rpm
// database is never read or written; the builder itself resolves
// BuildRequires against the request's repositories, and unpacks the
// kernel-devel a kmod needs instead of installing it.
type Rpmbuild struct {
	// HostProvides names BuildRequires taken as satisfied by the host
	// (e.g. gcc, make), which has no rpm database to ask.
	HostProvides []string
	// Dist is the %dist macro, ".el8" when empty.
	Dist string
	// BinaryPayload is %_binary_payload, "w2.xzdio" (readable by every
	// EL8+ rpm) when empty.
	BinaryPayload string
	// WorkDir holds the private topdirs, os.TempDir() when empty.
	WorkDir string
	// Macros are defined in every build, e.g. %__kabiforge for the kmod
	// specs' dependency generator; the request's macros win over them.
	Macros map[string]string
}

var _ Builder = (*Rpmbuild)(nil)

// Build rebuilds req.SRPM: it unpacks the SRPM, rebuilds the source package
// from its spec with the request's macros, resolves that package's
// BuildRequires, then builds the binary packages.
func (b *Rpmbuild) Build(ctx context.Context, req Request) (Result, error) {
	start := time.Now()
	if err := req.validate(); err != nil {
		return Result{}, err
	}
	ix, err := loadRepos(req.Repos)
	if err != nil {
		return Result{}, fmt.Errorf("build %s: %w", filepath.Base(req.SRPM), err)
	}
	if p, err := rpm.Open(req.SRPM); err != nil || !p.IsSource() {
		if err == nil {
			err = errors.New("a binary package")
		}
		return Result{}, &PackageError{SRPM: req.SRPM, Reason: fmt.Sprintf("not a usable source package: %v", err)}
	}
	if err := os.MkdirAll(req.ResultDir, 0o755); err != nil {
		return Result{}, &InfraError{SRPM: req.SRPM, Op: "make result dir", Err: err}
	}
	logPath := filepath.Join(req.ResultDir, "build.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return Result{}, &InfraError{SRPM: req.SRPM, Op: "create build log", Err: err}
	}
	defer logFile.Close()
	top, release, err := scratchDir(b.WorkDir, "kabiforge-rpmbuild-")
	if err != nil {
		return Result{}, &InfraError{SRPM: req.SRPM, Op: "make topdir", Err: err}
	}
	defer release()
	defer os.RemoveAll(top)

	ctx, cancel := withTimeout(ctx, req.Timeout)
	defer cancel()
	j := &rpmbuildJob{b: b, req: req, ix: ix, top: top, log: newLogSink(logFile, req.OnLog)}
	res, err := j.run(ctx)
	if err != nil {
		return Result{}, j.classify(ctx, err)
	}
	res.Logs = []string{logPath}
	res.Duration = time.Since(start)
	return res, nil
}

// rpmbuildJob is one build in its private topdir.
type rpmbuildJob struct {
	b   *Rpmbuild
	req Request
	ix  *repoIndex
	top string
	log *logSink
}

// exitError says a build step exited non-zero.
type exitError struct {
	step   string
	status exitStatus
}

func (e *exitError) Error() string { return fmt.Sprintf("%s exited with status %d", e.step, e.status) }

func (j *rpmbuildJob) run(ctx context.Context) (Result, error) {
	spec, err := unpackSRPM(ctx, j.log, j.req.SRPM, j.top)
	if err != nil {
		return Result{}, err
	}
	defines := j.defines()
	if err := j.rpmbuild(ctx, "-bs", defines, spec); err != nil {
		return Result{}, err
	}
	srpm, err := onlyFile(filepath.Join(j.top, "SRPMS", "*.src.rpm"))
	if err != nil {
		return Result{}, err
	}
	rebuilt, err := rpm.Open(srpm)
	if err != nil {
		return Result{}, fmt.Errorf("read rebuilt SRPM: %w", err)
	}
	found, missing := resolve(j.ix, j.b.HostProvides, buildRequires(rebuilt))
	for _, m := range missing {
		j.log.Printf("error: nothing provides %s (BuildRequires)", m)
	}
	if len(missing) > 0 {
		return Result{}, &DependencyError{SRPM: j.req.SRPM, Missing: missing, Tail: j.log.Tail()}
	}
	for _, p := range found {
		j.log.Printf("BuildRequires resolved by %s", filepath.Base(p.Path))
		if p.NEVRA.Name == "kernel-devel" {
			dir := filepath.Join(j.top, "kernel-devel")
			if err := unpackRPM(ctx, j.log, p.Path, dir); err != nil {
				return Result{}, err
			}
			defines = append(defines, KernelDevelRootMacro+" "+dir)
		}
	}
	if ms := j.req.ModuleSigning; ms != nil {
		dir := filepath.Join(j.top, "modsign")
		if err := ms.writeKeys(dir); err != nil {
			return Result{}, &InfraError{SRPM: j.req.SRPM, Op: "module signing", Err: err}
		}
		macros, err := ms.macros(dir)
		if err != nil {
			return Result{}, &InfraError{SRPM: j.req.SRPM, Op: "module signing", Err: err}
		}
		for _, name := range sortedMacros(macros) {
			defines = append(defines, name+" "+macros[name])
		}
	}
	if err := j.rpmbuild(ctx, "-bb", defines, spec); err != nil {
		return Result{}, err
	}
	return j.collect(srpm)
}

// defines returns the macros of every rpmbuild run: the private topdir, the
// settings Debian's rpm lacks, then the request's own, which win.
func (j *rpmbuildJob) defines() []string {
	dist, payload := j.b.Dist, j.b.BinaryPayload
	if dist == "" {
		dist = ".el8"
	}
	if payload == "" {
		payload = "w2.xzdio"
	}
	d := []string{
		"_topdir " + j.top,
		"_tmppath " + filepath.Join(j.top, "tmp"),
		"dist " + dist,
		"_binary_payload " + payload,
		"debug_package %{nil}",
	}
	for _, m := range []map[string]string{j.b.Macros, j.req.Macros} {
		for _, name := range sortedMacros(m) {
			d = append(d, name+" "+m[name])
		}
	}
	return d
}

func (j *rpmbuildJob) rpmbuild(ctx context.Context, mode string, defines []string, spec string) error {
	argv := []string{"rpmbuild", mode, "--nodeps"}
	if j.req.Arch != "" && mode != "-bs" {
		argv = append(argv, "--target", j.req.Arch)
	}
	for _, d := range defines {
		argv = append(argv, "--define", d)
	}
	status, err := run(ctx, j.log, j.top, append(argv, spec)...)
	if err != nil {
		return err
	}
	if status != 0 {
		return &exitError{step: "rpmbuild " + mode, status: status}
	}
	return nil
}

// collect moves the built packages into the result dir.
func (j *rpmbuildJob) collect(srpm string) (Result, error) {
	rpms, _ := filepath.Glob(filepath.Join(j.top, "RPMS", "*", "*.rpm"))
	if len(rpms) == 0 {
		return Result{}, errors.New("rpmbuild wrote no binary packages")
	}
	var res Result
	for _, p := range append(rpms, srpm) {
		dst := filepath.Join(j.req.ResultDir, filepath.Base(p))
		if err := moveFile(p, dst); err != nil {
			return Result{}, &InfraError{SRPM: j.req.SRPM, Op: "collect results", Err: err}
		}
		if p == srpm {
			res.SRPM = dst
		} else {
			res.RPMs = append(res.RPMs, dst)
		}
	}
	slices.Sort(res.RPMs)
	return res, nil
}

// classify turns a failed step into the error Build returns.
func (j *rpmbuildJob) classify(ctx context.Context, err error) error {
	var pe *PackageError
	var de *DependencyError
	var ie *InfraError
	var xe *exitError
	switch {
	case errors.As(err, &pe) || errors.As(err, &de) || errors.As(err, &ie):
		return err
	case errors.Is(err, errTimeLimit):
		j.log.Printf("error: build exceeded its time limit of %v", j.req.Timeout)
		return &PackageError{SRPM: j.req.SRPM, Reason: fmt.Sprintf("time limit %v exceeded", j.req.Timeout), Tail: j.log.Tail()}
	case ctx.Err() != nil:
		return fmt.Errorf("build %s: %w", filepath.Base(j.req.SRPM), err)
	case errors.As(err, &xe):
		return &PackageError{SRPM: j.req.SRPM, Reason: xe.Error(), Tail: j.log.Tail()}
	}
	return &InfraError{SRPM: j.req.SRPM, Op: "rpmbuild", Err: err, Tail: j.log.Tail()}
}
