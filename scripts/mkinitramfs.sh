#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a guest initramfs for one kernel:
#   mkinitramfs.sh ENVFILE OUT.cpio.gz [MODULE.ko ...]
# It holds busybox-static, the virtio modules the kernel needs (decompressed,
# in load order), libgpiod 1.6 tools under /opt/gpiod1 and 2.x tools under
# /opt/gpiod2 (each with its own library), the guest test scripts and programs
# from tests/guest, and the given modules under /modules.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

envfile=$1 out=$2
shift 2
. "$envfile"

fetch_gpiod() {	# fetch_gpiod GEN SUITE PKGS...: unpack libgpiod tools into the cache
	local gen=$1 suite=$2 dir="$CACHE/gpiod/$1"
	shift 2
	[ -x "$dir/usr/bin/gpiodetect" ] && return 0
	local tmp
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	local pkg
	for pkg in "$@"; do
		(cd "$tmp" && apt-get download -q "$pkg/$suite" >/dev/null 2>&1) ||
			die "cannot download $pkg from $suite (did scripts/install-deps.sh run?)"
	done
	rm -rf "$dir" && mkdir -p "$dir"
	for pkg in "$tmp"/*.deb; do dpkg -x "$pkg" "$dir"; done
	rm -rf "$tmp"
	[ -x "$dir/usr/bin/gpiodetect" ] || die "libgpiod $gen tools missing after unpacking"
}

fetch_gpiod 1 bookworm gpiod libgpiod2
fetch_gpiod 2 bookworm-backports gpiod libgpiod3

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,modules,lib64,lib/x86_64-linux-gnu,mnt}

cp /bin/busybox "$root/bin/busybox"
ln -s busybox "$root/bin/sh"

# The dynamic loader and libc of the host (Debian 12, same as the packages).
cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
cp -L /lib/x86_64-linux-gnu/libc.so.6 "$root/lib/x86_64-linux-gnu/"

for gen in 1 2; do
	mkdir -p "$root/opt/gpiod$gen"
	cp -a "$CACHE/gpiod/$gen/usr/bin" "$root/opt/gpiod$gen/bin"
	mkdir -p "$root/opt/gpiod$gen/lib"
	cp -a "$CACHE/gpiod/$gen/usr/lib/x86_64-linux-gnu/"libgpiod.so* "$root/opt/gpiod$gen/lib/"
done

# Virtio modules, in dependency order, from a depmod'ed copy of the kernel's
# module tree ("builtin" lines need nothing).
: > "$root/etc/modules.load"
if [ -n "${KMODROOT:-}" ] && [ -d "$KMODROOT" ]; then
	kroot=${KMODROOT%/lib/modules/*}
	[ -f "$KMODROOT/modules.dep" ] || depmod -b "$kroot" "$KRELEASE" ||
		die "depmod failed for $KRELEASE"
	modprobe -d "$kroot" -S "$KRELEASE" --show-depends virtio_pci 2>/dev/null |
		awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
		name=$(basename "$ko")
		case "$name" in
		*.xz) name=${name%.xz}; xz -dc "$ko" > "$root/modules/$name" ;;
		*.zst) name=${name%.zst}; zstd -qdc "$ko" > "$root/modules/$name" ;;
		*) cp "$ko" "$root/modules/$name" ;;
		esac
		echo "$name" >> "$root/etc/modules.load"
	done
fi

for ko in "$@"; do
	cp "$ko" "$root/modules/"
done

# The module DKMS built for this kernel, when tests/packaging.sh made one.
if [ -n "${DKMS_KO:-}" ]; then
	mkdir -p "$root/modules/dkms"
	cp "$DKMS_KO" "$root/modules/dkms/"
fi

cp "$top/tests/guest/init" "$root/init"
chmod 755 "$root/init"
mkdir -p "$root/tests"
cp "$top"/tests/guest/*.sh "$root/tests/"
if [ -d "$top/tests/guest/bin" ]; then
	cp -a "$top/tests/guest/bin" "$root/tests/bin"
fi
echo "$KVER $KRELEASE" > "$root/etc/gv-kernel"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
