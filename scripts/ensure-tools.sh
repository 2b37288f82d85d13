#!/usr/bin/env bash
# ensure-tools.sh installs the system tools kabiforge's demo and tests use.
# With apt-get or dnf and root it installs what is missing; otherwise it prints
# the exact install line and exits 1.
set -euo pipefail

need=()
check() { command -v "$1" >/dev/null 2>&1 || need+=("$1"); }
for t in rpmbuild rpmkeys rpmsign createrepo_c dnf gpg cpio make gcc git; do check "$t"; done
# Page tests read the compatibility page in headless Chromium.
command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || need+=(chromium)
# The boot gate's tests boot real kernels under QEMU.
check qemu-system-x86_64
# Secure Boot: kernel images are signed with sbsign and checked with
# sbverify; module signatures are checked against openssl cms and read from
# .ko.xz/.zst the way the kernel loads them.
for t in sbsign sbverify openssl xz zstd; do check "$t"; done
# Real kernel modules are built in tests against the host's kernel headers (Debian only).
headers=no
if command -v apt-get >/dev/null 2>&1; then
	ls -d /usr/src/linux-headers-*-amd64 >/dev/null 2>&1 || headers=yes
	command -v modprobe >/dev/null 2>&1 || need+=(modprobe)
	# The real kernel family (internal/kernelfamily) is fetched with apt-get
	# download, extracted with dpkg-deb and built against with gcc-12.
	for t in dpkg-deb gcc-12; do check "$t"; done
	apt-cache show linux-kbuild-6.1 >/dev/null 2>&1 || need+=(apt-lists)
	# The source kernel (internal/demo/sourcekernel) compiles Debian's
	# linux-source-6.1 with the tools and headers kbuild and objtool need.
	dpkg-query -W -f '${Status}' linux-source-6.1 2>/dev/null | grep -q ' installed$' || need+=(linux-source-6.1)
	for t in flex bison bc; do check "$t"; done
	for h in /usr/include/libelf.h /usr/include/openssl/ssl.h; do [ -e "$h" ] || need+=("$h"); done
	# The scale-out test (internal/topology): PostgreSQL for Temporal, ip for network namespaces.
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
	command -v ip >/dev/null 2>&1 || need+=(ip)
fi

if [ ${#need[@]} -eq 0 ] && [ "$headers" = no ]; then
	exit 0
fi

apt_pkgs="rpm createrepo-c dnf gnupg cpio make gcc gcc-12 dpkg-dev git kmod linux-headers-amd64 chromium qemu-system-x86 postgresql iproute2 sbsigntool openssl xz-utils zstd linux-source-6.1 flex bison bc libelf-dev libssl-dev"
dnf_pkgs="rpm-build rpm-sign createrepo_c dnf gnupg2 cpio make gcc git kmod chromium qemu-system-x86 postgresql-server iproute sbsigntools openssl xz zstd flex bison bc elfutils-libelf-devel openssl-devel"

if command -v apt-get >/dev/null 2>&1; then
	line="apt-get update && apt-get install -y $apt_pkgs"
elif command -v dnf >/dev/null 2>&1; then
	line="dnf install -y $dnf_pkgs"
else
	echo "ensure-tools: missing ${need[*]}; install rpm, rpmbuild, rpmsign, createrepo_c, dnf, gnupg and cpio" >&2
	exit 1
fi

if [ "$(id -u)" != 0 ]; then
	echo "ensure-tools: missing ${need[*]:-kernel headers}; run as root:" >&2
	echo "  $line" >&2
	exit 1
fi
echo "ensure-tools: installing ${need[*]:-kernel headers}" >&2
export DEBIAN_FRONTEND=noninteractive
bash -c "$line" >/dev/null
