#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the host packages the build, the tests and the demo need (Debian 12).
# Adds bookworm-backports as a .sources file when no backports entry exists.
set -euo pipefail

SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo

have_backports() {
	grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/
}

if ! have_backports; then
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
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends \
	build-essential bc bison flex libelf-dev libssl-dev dwarves kmod cpio xz-utils zstd \
	sparse perl python3 busybox-static dpkg-dev socat \
	linux-headers-amd64 >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends -t bookworm-backports \
	qemu-system-x86 >/dev/null
echo "install-deps: $(qemu-system-x86_64 --version | head -1)"
