#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the host packages the build, the tests and the demo need, from the
# machine's own Debian release (Debian 12 bookworm or 13 trixie, told by
# VERSION_CODENAME in /etc/os-release).
#
# QEMU 9 or newer is needed (older QEMU never offers the interrupt feature):
# it comes from the release itself where it has it (Debian 13: QEMU 10.0),
# else from the release's backports (Debian 12: bookworm-backports, added
# as a .sources file when the machine has no entry for it). Nothing of
# another release is ever added to the machine's sources, and no kernel
# image or headers package is installed: the guest kernels, their headers
# and the libgpiod tools the guests run are downloaded and unpacked under
# .cache/ (scripts/fetch-kernel.sh, scripts/mkinitramfs.sh). The arm64
# modules and guest programs are built with gcc-aarch64-linux-gnu (glibc
# from libc6-dev-arm64-cross), the device trees with dtc.
# Prints what it installs on one line; returns at once when everything is
# already there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
host_release_ok

PKGS="build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
xz-utils zstd sparse perl python3 busybox-static dpkg-dev debhelper dkms
fakeroot rsync dh-dkms gcc-aarch64-linux-gnu libc6-dev-arm64-cross
device-tree-compiler git"
QEMU_PKGS="qemu-system-x86 qemu-system-arm"
QEMU_MIN=9
REL=$HOST_RELEASE
NUM=$(release_num "$REL")

# missing PKG...: the packages dpkg does not have installed, on one line
missing() {
	local p out=
	for p in "$@"; do
		[ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null)" = installed ] ||
			out="$out $p"
	done
	echo "${out# }"
}

qemu_ok() {
	local q
	for q in qemu-system-x86_64 qemu-system-aarch64; do
		command -v $q >/dev/null &&
			$q --version | head -n 1 |
			awk -v min=$QEMU_MIN '{ split($4, v, "."); exit !(v[1] >= min) }' || return 1
	done
}

# shellcheck disable=SC2086
need=$(missing $PKGS)
if [ -z "$need" ] && qemu_ok; then
	exit 0
fi

log "Debian $NUM ($REL): apt-get update"
$APT_GET update -qq

# QEMU from the release's own suites when they have QEMU_MIN or newer;
# else from its backports (only there: no other release is ever used).
qemu_from=
qv=$(apt_candidate qemu-system-x86)
qmaj=${qv#*:}
qmaj=${qmaj%%.*}
if [ -z "$qv" ] || [ "$qmaj" -lt $QEMU_MIN ] 2>/dev/null; then
	qemu_from=$REL-backports
	if ! apt-get indextargets --format '$(RELEASE)' 'Created-By: Packages' 2>/dev/null |
		grep -qx "$qemu_from"; then
		log "Debian $NUM's own QEMU is ${qv:-missing} (older than $QEMU_MIN): adding $qemu_from to /etc/apt/sources.list.d/"
		$SUDO tee "/etc/apt/sources.list.d/$qemu_from.sources" >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: $qemu_from
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
		$APT_GET update -qq
	fi
	qv=$(apt_candidate qemu-system-x86 -t "$qemu_from")
fi

qemu_need=
qemu_ok || qemu_need=$QEMU_PKGS
echo "install-deps: Debian $NUM ($REL): installing: ${need:+$need }${qemu_need:+$qemu_need $qv (from ${qemu_from:-$REL})}"
# shellcheck disable=SC2086
[ -z "$need" ] || $APT_GET install -y -qq --no-install-recommends $need >/dev/null
if [ -n "$qemu_need" ]; then
	# shellcheck disable=SC2086
	$APT_GET install -y -qq --no-install-recommends ${qemu_from:+-t "$qemu_from"} \
		$QEMU_PKGS >/dev/null
fi
qemu_ok || die "QEMU $QEMU_MIN or newer is needed; Debian $NUM offers ${qv:-none}"
echo "install-deps: $(qemu-system-x86_64 --version | head -n 1) (x86_64 and aarch64)"
