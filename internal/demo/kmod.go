package demo

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
)

// kmodSpec is an ELRepo-style kmod spec. The module is a placeholder file
// whose lines are its symbol versions (0xCRC TAB symbol), looked up at build
// time in the Module.symvers of the kernel-devel it is built against; the
// dependency generator find-ksym-requires.sh turns them into
// Requires: kernel(symbol) = 0xCRC, as kmod.attr does from a real module's
// __versions section.
var kmodSpec = template.Must(template.New("kmod.spec").Parse(`# Demo kmod written by kabiforge (internal/demo), in the style of ELRepo's specs.
# Define the kmod package name here.
%define kmod_name {{.Name}}

{{if .Overridable -}}
# If kmod_kernel_version isn't defined on the rpmbuild line, define it here.
%{!?kmod_kernel_version: %define kmod_kernel_version {{.KernelNVR}}}
%{!?kmod_rpm_release: %define kmod_rpm_release {{.Release}}}
{{- else -}}
%define kmod_kernel_version {{.KernelNVR}}
%define kmod_rpm_release {{.Release}}
{{- end}}

%{!?dist: %define dist .el8}
%global _use_internal_dependency_generator 0
%global __find_provides %{nil}
%global __find_requires /bin/sh %{_sourcedir}/find-ksym-requires.sh

Name: kmod-%{kmod_name}
Version: {{.Version}}
Release: %{kmod_rpm_release}%{?dist}
Summary: %{kmod_name} kernel module(s) (kabiforge demo)
License: GPLv2
URL: https://github.com/kabiforge/kabiforge
ExclusiveArch: x86_64

# Sources.
Source0: %{kmod_name}.symbols
Source1: find-ksym-requires.sh

BuildRequires: kernel-devel = %{kmod_kernel_version}
BuildRequires: kernel-abi-stablelists
Requires: kernel >= %{kmod_kernel_version}
Provides: kabi-modules = %{kmod_kernel_version}
Provides: kmod-%{kmod_name}-uname-r = %{kmod_kernel_version}.%{_target_cpu}

%description
The %{kmod_name} demo module, built for kernel %{kmod_kernel_version}.
It requires kernel(symbol) = CRC for each kernel symbol it uses.

%prep
%setup -q -c -T

%build
symvers=%{?kernel_devel_root}/usr/src/kernels/%{kmod_kernel_version}.%{_target_cpu}/Module.symvers
if [ ! -r "$symvers" ]; then
	echo "error: $symvers not found: kernel-devel = %{kmod_kernel_version} is needed" >&2
	exit 1
fi
awk -F'\t' 'NR == FNR { crc[$2] = $1; next }
	!($1 in crc) { print "error: %{kmod_name}: undefined symbol " $1 > "/dev/stderr"; bad = 1; next }
	{ print crc[$1] "\t" $1 }
	END { exit bad }' "$symvers" %{SOURCE0} > %{kmod_name}.ko

%install
install -D -m 0644 %{kmod_name}.ko %{buildroot}/lib/modules/%{kmod_kernel_version}.%{_target_cpu}/extra/%{kmod_name}/%{kmod_name}.ko

%files
%dir /lib/modules/%{kmod_kernel_version}.%{_target_cpu}/extra/%{kmod_name}
/lib/modules/%{kmod_kernel_version}.%{_target_cpu}/extra/%{kmod_name}/%{kmod_name}.ko

%changelog
* Thu Jan 01 2026 kabiforge <kabiforge@example.invalid> - {{.Version}}-{{.Release}}
- Built for kernel {{.KernelNVR}}
`))

// findKsymRequires reads the file list rpmbuild passes on stdin and prints
// kernel(sym) = 0xCRC for every symbol version in each packaged module.
const findKsymRequires = `#!/bin/sh
# Dependency generator of the kabiforge demo kmods: kernel(sym) = 0xCRC for
# each "0xCRC<TAB>symbol" line of every packaged .ko placeholder (only such
# lines: a signed placeholder ends in a binary module signature).
while read -r f; do
	case "$f" in
	*/lib/modules/*.ko)
		awk -F'\t' 'NF == 2 && $1 ~ /^0x[0-9a-f]+$/ && $2 ~ /^[A-Za-z0-9_.]+$/ { print "kernel(" $2 ") = " $1 }' "$f" ;;
	esac
done | sort -u
`

// kmodFiles renders the spec and sources of m.
func kmodFiles(m Kmod) (spec []byte, sources map[string][]byte, err error) {
	if _, _, err := splitNVR(m.KernelNVR); err != nil {
		return nil, nil, fmt.Errorf("kmod %s: %w", m.Name, err)
	}
	if m.Name == "" || strings.ContainsAny(m.Name, " \t\n/%") {
		return nil, nil, fmt.Errorf("kmod name %q: want a plain module name", m.Name)
	}
	if m.Version == "" || m.Release == "" {
		return nil, nil, fmt.Errorf("kmod %s: version and release are required", m.Name)
	}
	if len(m.Symbols) == 0 {
		return nil, nil, fmt.Errorf("kmod %s: no symbols", m.Name)
	}
	var b bytes.Buffer
	if err := kmodSpec.Execute(&b, m); err != nil {
		return nil, nil, fmt.Errorf("render kmod %s spec: %w", m.Name, err)
	}
	return b.Bytes(), map[string][]byte{
		m.Name + ".symbols":     []byte(strings.Join(m.Symbols, "\n") + "\n"),
		"find-ksym-requires.sh": []byte(findKsymRequires),
	}, nil
}

// KmodSRPM writes the demo kmod m's source package into dir and returns its
// path.
func KmodSRPM(dir string, m Kmod) (string, error) {
	spec, sources, err := kmodFiles(m)
	if err != nil {
		return "", err
	}
	return buildSRPM(dir, "kmod-"+m.Name+".spec", spec, sources)
}
