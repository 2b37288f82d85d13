package build

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// RetargetRequest asks for a kmod source package rebuilt for another kernel.
type RetargetRequest struct {
	// SRPM is the kmod's source package.
	SRPM string
	// KernelNVR is the kernel to build for, as kmod_kernel_version spells
	// it: "4.18.0-80.1.2.el8_0".
	KernelNVR string
	// Dir receives the new source package.
	Dir string
	// Dist is the %dist macro for the new source package, ".el8" when empty.
	Dist string
}

// Retargeted is a kmod source package made for a new kernel.
type Retargeted struct {
	// SRPM is the new source package.
	SRPM string
	// Macros must be defined when building it: set when the spec takes
	// kmod_kernel_version as an overridable macro rather than a hard-coded
	// %define.
	Macros map[string]string
	// Release is the kmod release the new package gets.
	Release string
}

var (
	// "%define kmod_kernel_version 4.18.0-240.el8", as ELRepo specs hard-code it.
	hardKver = regexp.MustCompile(`(?m)^([ \t]*%(?:define|global)[ \t]+kmod_kernel_version[ \t]+)(\S+)[ \t]*$`)
	// "%{!?kmod_kernel_version: %define kmod_kernel_version 4.18.0-240.el8}".
	softKver    = regexp.MustCompile(`(?m)^[ \t]*%\{!\?kmod_kernel_version:[ \t]*%(?:define|global)[ \t]+kmod_kernel_version[ \t]+([^}\s]+)[ \t]*\}`)
	hardRelease = regexp.MustCompile(`(?m)^([ \t]*%(?:define|global)[ \t]+kmod_rpm_release[ \t]+)(\S+)[ \t]*$`)
	softRelease = regexp.MustCompile(`(?m)^[ \t]*%\{!\?kmod_rpm_release:[ \t]*%(?:define|global)[ \t]+kmod_rpm_release[ \t]+([^}\s]+)[ \t]*\}`)
	// "Release: 1%{?dist}", "Release: %{original_release}.1%{?dist}",
	// "Release: 2%{?dist}.elrepo": group 2 is the value.
	releaseTag = regexp.MustCompile(`(?mi)^(Release:[ \t]*)(\S+)[ \t]*$`)
	// The dist macro and anything after it stay as they are.
	distMacro      = regexp.MustCompile(`%\{?\??dist\}?`)
	trailingNumber = regexp.MustCompile(`[0-9]+$`)
	safeValue      = regexp.MustCompile(`^[A-Za-z0-9._+~^-]+$`)
	// A release value may hold macros: "%{original_release}.1".
	safeRelease = regexp.MustCompile(`^[A-Za-z0-9._+~^%{}?!:-]+$`)
)

// Retarget rewrites a kmod's spec for another kernel and rebuilds its source
// package from the edited spec and the original sources. A hard-coded
// "%define kmod_kernel_version X" (which a --define cannot override) is
// rewritten in place; a spec that takes the version as an overridable macro
// is left alone and the new version is returned in Retargeted.Macros. Either
// way the release is bumped (kmod_rpm_release, else the Release tag), so the
// new package upgrades the old one.
func Retarget(ctx context.Context, req RetargetRequest) (Retargeted, error) {
	if !safeValue.MatchString(req.KernelNVR) || !strings.Contains(req.KernelNVR, "-") {
		return Retargeted{}, fmt.Errorf("retarget %s: bad kernel NVR %q", filepath.Base(req.SRPM), req.KernelNVR)
	}
	top, err := os.MkdirTemp("", "kabiforge-retarget-")
	if err != nil {
		return Retargeted{}, fmt.Errorf("retarget %s: %w", filepath.Base(req.SRPM), err)
	}
	defer os.RemoveAll(top)
	var out bytes.Buffer
	log := newLogSink(&out, nil)
	specPath, err := unpackSRPM(ctx, log, req.SRPM, top)
	if err != nil {
		return Retargeted{}, fmt.Errorf("retarget %s: %w\n%s", filepath.Base(req.SRPM), err, out.String())
	}
	spec, err := os.ReadFile(specPath)
	if err != nil {
		return Retargeted{}, fmt.Errorf("retarget: %w", err)
	}
	edited, res, err := retargetSpec(spec, req.KernelNVR)
	if err != nil {
		return Retargeted{}, fmt.Errorf("retarget %s (%s): %w", filepath.Base(req.SRPM), filepath.Base(specPath), err)
	}
	if err := os.WriteFile(specPath, edited, 0o644); err != nil {
		return Retargeted{}, fmt.Errorf("retarget: %w", err)
	}
	dist := req.Dist
	if dist == "" {
		dist = ".el8"
	}
	argv := []string{"rpmbuild", "-bs", "--nodeps", "--define", "_topdir " + top,
		"--define", "_tmppath " + filepath.Join(top, "tmp"), "--define", "dist " + dist}
	for _, name := range sortedMacros(res.Macros) {
		argv = append(argv, "--define", name+" "+res.Macros[name])
	}
	status, err := run(ctx, log, top, append(argv, specPath)...)
	if err == nil && status != 0 {
		err = &exitError{step: "rpmbuild -bs", status: status}
	}
	if err != nil {
		return Retargeted{}, fmt.Errorf("retarget %s: %w\n%s", filepath.Base(req.SRPM), err, out.String())
	}
	srpm, err := onlyFile(filepath.Join(top, "SRPMS", "*.src.rpm"))
	if err != nil {
		return Retargeted{}, fmt.Errorf("retarget %s: %w", filepath.Base(req.SRPM), err)
	}
	if err := os.MkdirAll(req.Dir, 0o755); err != nil {
		return Retargeted{}, fmt.Errorf("retarget: %w", err)
	}
	res.SRPM = filepath.Join(req.Dir, filepath.Base(srpm))
	if err := moveFile(srpm, res.SRPM); err != nil {
		return Retargeted{}, fmt.Errorf("retarget: %w", err)
	}
	return res, nil
}

// retargetSpec edits spec for kernel kver. The Retargeted it returns has
// Macros and Release set.
func retargetSpec(spec []byte, kver string) ([]byte, Retargeted, error) {
	res := Retargeted{Macros: map[string]string{}}
	switch {
	case hardKver.Match(spec):
		spec = hardKver.ReplaceAll(spec, []byte("${1}"+kver))
	case softKver.Match(spec):
		res.Macros["kmod_kernel_version"] = kver
	default:
		return nil, Retargeted{}, fmt.Errorf("no kmod_kernel_version definition")
	}
	var err error
	switch {
	case hardRelease.Match(spec):
		spec, res.Release, err = bumpIn(spec, hardRelease)
	case softRelease.Match(spec):
		m := softRelease.FindSubmatch(spec)
		res.Release, err = bump(string(m[1]))
		res.Macros["kmod_rpm_release"] = res.Release
		res.Release = withoutDist(res.Release)
	case releaseTag.Match(spec):
		spec, res.Release, err = bumpIn(spec, releaseTag)
	default:
		err = fmt.Errorf("no Release tag")
	}
	if err != nil {
		return nil, Retargeted{}, err
	}
	if len(res.Macros) == 0 {
		res.Macros = nil
	}
	return spec, res, nil
}

// bumpIn bumps the release the first match of re holds in its group 2.
func bumpIn(spec []byte, re *regexp.Regexp) ([]byte, string, error) {
	loc := re.FindSubmatchIndex(spec)
	next, err := bump(string(spec[loc[4]:loc[5]]))
	if err != nil {
		return nil, "", err
	}
	out := append(append(append([]byte(nil), spec[:loc[4]]...), next...), spec[loc[5]:]...)
	return out, withoutDist(next), nil
}

// bump returns the release after r, one that rpm's vercmp sorts higher.
// The dist macro and what follows it are kept; before it, a trailing number
// is incremented ("1" → "2", "%{base}.1" → "%{base}.2", "3rc2" → "3rc3") and
// anything else gets ".1" appended ("3.elrepo" → "3.elrepo.1",
// "%{base}" → "%{base}.1"): a numeric segment sorts above a missing one.
func bump(r string) (string, error) {
	if !safeRelease.MatchString(r) || strings.Count(r, "{") != strings.Count(r, "}") {
		return "", fmt.Errorf("release %q cannot be bumped", r)
	}
	head, tail := r, ""
	if loc := distMacro.FindStringIndex(r); loc != nil {
		head, tail = r[:loc[0]], r[loc[0]:]
	}
	if head == "" {
		return "", fmt.Errorf("release %q has nothing before %%{?dist} to bump", r)
	}
	if m := trailingNumber.FindStringIndex(head); m != nil {
		n, err := strconv.ParseUint(head[m[0]:], 10, 63)
		if err != nil {
			return "", fmt.Errorf("release %q: %w", r, err)
		}
		return head[:m[0]] + strconv.FormatUint(n+1, 10) + tail, nil
	}
	return head + ".1" + tail, nil
}

// withoutDist is release r up to its dist macro: what Retargeted.Release
// reports.
func withoutDist(r string) string {
	if loc := distMacro.FindStringIndex(r); loc != nil {
		return r[:loc[0]]
	}
	return r
}
