#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the host packages the build, the tests and the demo need (Debian 12).
# Adds bookworm-backports as a .sources file when no backports entry exists.
# QEMU 10 (qemu-system-x86 and, for the arm64 guests, qemu-system-arm) comes
# from bookworm-backports; the arm64 modules and guest programs are built with
# gcc-aarch64-linux-gnu (glibc from libc6-dev-arm64-cross), the device trees
# with dtc. No arm64 package is installed on the machine (see
# scripts/fetch-kernel.sh).
# Returns at once when everything is already there.
set -euo pipefail

PKGS="build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio
xz-utils zstd sparse perl python3 busybox-static dpkg-dev debhelper dkms
fakeroot rsync dh-dkms gcc-aarch64-linux-gnu libc6-dev-arm64-cross
device-tree-compiler git"

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

missing=$(dpkg-query -W -f='${db:Status-Status} ${Package}\n' $PKGS 2>/dev/null |
	awk '$1 != "installed" { print $2 }' || true)
for p in $PKGS; do
	dpkg-query -W "$p" >/dev/null 2>&1 || missing="$missing $p"
done
qemu_ok() {
	local q
	for q in qemu-system-x86_64 qemu-system-aarch64; do
		command -v $q >/dev/null &&
			$q --version | head -n 1 |
			awk '{ split($4, v, "."); exit !(v[1] >= 9) }' || return 1
	done
}
if [ -z "${missing// /}" ] && qemu_ok; then
	exit 0
fi

if ! grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then
	echo "install-deps: adding bookworm-backports to /etc/apt/sources.list.d/"
	$SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<SRC
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-deps: installing:${missing:- qemu-system-x86 qemu-system-arm (backports)}"
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $PKGS >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports \
	qemu-system-x86 qemu-system-arm >/dev/null
qemu_ok || { echo "install-deps: QEMU 9 or newer is needed (bookworm-backports)" >&2; exit 1; }
echo "install-deps: $(qemu-system-x86_64 --version | head -n 1) (x86_64 and aarch64)"
