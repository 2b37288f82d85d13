package demo

import (
	"bytes"
	"fmt"
	"text/template"
)

// kernelSpec is the demo kernel's spec. Its kernel-core Provides
// kernel(sym) = 0xCRC are generated while rpmbuild classifies the built
// files: find-kabi-provides.sh reads /boot/symvers-<kver>.gz, as RHEL's
// kabi.attr generator does. rpm 4.18 has no per-spec file attributes
// (_local_file_attrs came later), so the spec uses the external dependency
// generator interface, which it also supports.
var kernelSpec = template.Must(template.New("kernel.spec").Parse(`# Demo kernel written by kabiforge (internal/demo). Synthetic: no code, real kABI data.
%global _use_internal_dependency_generator 0
%global __find_provides /bin/sh %{_sourcedir}/find-kabi-provides.sh
%global __find_requires %{nil}
%global kver %{version}-%{release}.%{_target_cpu}

Name: kernel
Version: {{.Version}}
Release: {{.Release}}
Summary: The Linux kernel (kabiforge demo)
License: GPLv2
URL: https://github.com/kabiforge/kabiforge
ExclusiveArch: {{.Arch}}
Source0: Module.symvers
Source1: kabi_stablelist_{{.Arch}}
Source2: find-kabi-provides.sh
Requires: kernel-core = %{version}-%{release}

%description
A demo kernel: metapackage of kernel-core.

%package core
Summary: The Linux kernel image (kabiforge demo)
Provides: kernel = %{version}-%{release}
Provides: kernel-%{_target_cpu} = %{version}-%{release}
Provides: kernel-uname-r = %{kver}

%description core
A demo kernel-core. Provides kernel(symbol) = CRC for every vmlinux export.

%package devel
Summary: Development package for building kernel modules (kabiforge demo)
Provides: kernel-devel-uname-r = %{kver}

%description devel
Module.symvers of the demo kernel, for building kmods against it.

%package abi-stablelists
Summary: The kABI stablelist of the demo kernel
BuildArch: noarch

%description abi-stablelists
The symbols whose CRCs Red Hat keeps stable over the major release.

%prep

%build
{{if .Sleep}}sleep {{.Sleep}}
{{end}}echo 'kabiforge demo kernel %{kver}' > vmlinuz

%install
install -D -m 0644 vmlinuz %{buildroot}/lib/modules/%{kver}/vmlinuz
install -d %{buildroot}/boot
gzip -9nc %{SOURCE0} > %{buildroot}/boot/symvers-%{kver}.gz
install -m 0644 %{buildroot}/boot/symvers-%{kver}.gz %{buildroot}/lib/modules/%{kver}/symvers.gz
install -D -m 0644 %{SOURCE0} %{buildroot}/usr/src/kernels/%{kver}/Module.symvers
install -D -m 0644 %{SOURCE1} %{buildroot}/lib/modules/{{.StablelistDir}}/kabi_stablelist_{{.Arch}}

%files

%files core
/boot/symvers-%{kver}.gz
%dir /lib/modules/%{kver}
/lib/modules/%{kver}/vmlinuz
/lib/modules/%{kver}/symvers.gz

%files devel
%dir /usr/src/kernels/%{kver}
/usr/src/kernels/%{kver}/Module.symvers

%files abi-stablelists
%dir /lib/modules/{{.StablelistDir}}
/lib/modules/{{.StablelistDir}}/kabi_stablelist_{{.Arch}}

%changelog
* Thu Jan 01 2026 kabiforge <kabiforge@example.invalid> - {{.Version}}-{{.Release}}
- Demo kernel {{.Version}}-{{.Release}}
`))

// findKabiProvides reads the file list rpmbuild passes on stdin and prints
// kernel(sym) = 0xCRC for the vmlinux rows of each /boot/symvers-*.gz.
const findKabiProvides = `#!/bin/sh
# Dependency generator of the kabiforge demo kernel: kernel(sym) = 0xCRC
# for every vmlinux export in /boot/symvers-<kver>.gz.
while read -r f; do
	case "$f" in
	*/boot/symvers-*.gz)
		gzip -dc "$f" | awk -F'\t' '$3 == "vmlinux" { print "kernel(" $2 ") = " $1 }' ;;
	esac
done | sort -u
`

// kernelFiles renders the spec and sources of k.
func kernelFiles(k Kernel) (spec []byte, sources map[string][]byte, err error) {
	version, release, err := splitNVR(k.NVR)
	if err != nil {
		return nil, nil, err
	}
	if len(k.Symbols) == 0 {
		return nil, nil, fmt.Errorf("kernel %s: no symbols", k.NVR)
	}
	var b bytes.Buffer
	err = kernelSpec.Execute(&b, map[string]any{
		"Version": version, "Release": release, "Arch": k.arch(), "StablelistDir": k.stablelistDir(), "Sleep": k.BuildSeconds,
	})
	if err != nil {
		return nil, nil, fmt.Errorf("render kernel %s spec: %w", k.NVR, err)
	}
	return b.Bytes(), map[string][]byte{
		"Module.symvers":              k.symvers(),
		"kabi_stablelist_" + k.arch(): k.stablelist(),
		"find-kabi-provides.sh":       []byte(findKabiProvides),
	}, nil
}

// KernelSRPM writes the demo kernel k's source package into dir and returns
// its path (dir/kernel-<NVR>.src.rpm).
func KernelSRPM(dir string, k Kernel) (string, error) {
	spec, sources, err := kernelFiles(k)
	if err != nil {
		return "", err
	}
	return buildSRPM(dir, "kernel.spec", spec, sources)
}
