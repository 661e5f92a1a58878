#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build a guest initramfs for one kernel:
#   mkinitramfs.sh ENVFILE OUT.cpio.gz [MODULE.ko ...]
# It holds busybox-static, the virtio modules the kernel needs (decompressed,
# in load order), libgpiod 1.6 tools under /opt/gpiod1 and 2.x tools under
# /opt/gpiod2 (each with its own library), the guest test scripts and programs
# from tests/guest, and the given modules under /modules.
#
# For an arm64 kernel (KARCH=arm64 in ENVFILE) everything is arm64:
# busybox-static and libgpiod from Debian's arm64 packages (apt-get download
# through the private apt state, lib.sh: apt64, and dpkg -x), the loader and
# libc of the cross toolchain (libc6-arm64-cross), tests/guest/bin-arm64.
# It also loads virtio_mmio at boot, and carries the kernel's gpio-leds,
# gpio-keys and evdev modules (with what they depend on) under
# /modules/kernel/ for the suites to load: /etc/modules.extra lists them,
# one "NAME FILE..." line each, the files in load order.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

envfile=$1 out=$2
shift 2
. "$envfile"
KARCH=${KARCH:-x86_64}

# dl_unpack DIR CHECK PKG...: download the packages (PKG or PKG/SUITE) and
# unpack them into DIR, unless DIR/CHECK exists already
dl_unpack() {
	local dir=$1 check=$2 tmp pkg
	shift 2
	[ -e "$dir/$check" ] && return 0
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	for pkg in "$@"; do
		if [ "$KARCH" = arm64 ]; then
			(cd "$tmp" && apt64 get download -q "$pkg" >/dev/null 2>&1)
		else
			(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1)
		fi || die "cannot download $pkg for $KARCH (did scripts/install-deps.sh run?)"
	done
	rm -rf "$dir" && mkdir -p "$dir"
	for pkg in "$tmp"/*.deb; do dpkg -x "$pkg" "$dir"; done
	rm -rf "$tmp"
	[ -e "$dir/$check" ] || die "$check missing after unpacking $*"
}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,modules,mnt}

if [ "$KARCH" = arm64 ]; then
	. "$top/scripts/lib.sh"
	apt64_update
	G=$CACHE/gpiod/arm64-
	TRIPLET=aarch64-linux-gnu
	dl_unpack "$CACHE/arm64-user/busybox" bin/busybox busybox-static
	cp "$CACHE/arm64-user/busybox/bin/busybox" "$root/bin/busybox"
	# The loader and libc of the cross toolchain (glibc 2.36, as
	# Debian 12's arm64 packages are built against).
	mkdir -p "$root/lib/$TRIPLET"
	cp -L "/usr/$TRIPLET/lib/ld-linux-aarch64.so.1" "$root/lib/"
	cp -L "/usr/$TRIPLET/lib/libc.so.6" "$root/lib/$TRIPLET/"
	bindir=$top/tests/guest/bin-arm64
else
	G=$CACHE/gpiod/
	TRIPLET=x86_64-linux-gnu
	cp /bin/busybox "$root/bin/busybox"
	# The dynamic loader and libc of the host (Debian 12, same as the packages).
	mkdir -p "$root/lib64" "$root/lib/$TRIPLET"
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
	cp -L "/lib/$TRIPLET/libc.so.6" "$root/lib/$TRIPLET/"
	bindir=$top/tests/guest/bin
fi
ln -s busybox "$root/bin/sh"
dl_unpack "${G}1" usr/bin/gpiodetect gpiod/bookworm libgpiod2/bookworm
dl_unpack "${G}2" usr/bin/gpiodetect gpiod/bookworm-backports libgpiod3/bookworm-backports

for gen in 1 2; do
	mkdir -p "$root/opt/gpiod$gen"
	cp -a "$G$gen/usr/bin" "$root/opt/gpiod$gen/bin"
	mkdir -p "$root/opt/gpiod$gen/lib"
	cp -a "$G$gen/usr/lib/$TRIPLET/"libgpiod.so* "$root/opt/gpiod$gen/lib/"
done

# Kernel modules, in dependency order, from a depmod'ed copy of the kernel's
# module tree ("builtin" lines need nothing). kmods DIR MODULE...: print the
# files copied (decompressed) into $root/DIR, in load order.
kmods() {
	local dir=$1 ko name
	shift
	for m in "$@"; do
		modprobe -d "$kroot" -S "$KRELEASE" --show-depends "$m" 2>/dev/null
	done | awk '$1 == "insmod" && !seen[$2]++ { print $2 }' | while read -r ko; do
		name=$(basename "$ko")
		case "$name" in
		*.xz) name=${name%.xz}; xz -dc "$ko" > "$root/$dir/$name" ;;
		*.zst) name=${name%.zst}; zstd -qdc "$ko" > "$root/$dir/$name" ;;
		*) cp "$ko" "$root/$dir/$name" ;;
		esac
		echo "$name"
	done
}
: > "$root/etc/modules.load"
: > "$root/etc/modules.extra"
if [ -n "${KMODROOT:-}" ] && [ -d "$KMODROOT" ]; then
	kroot=${KMODROOT%/lib/modules/*}
	[ -f "$KMODROOT/modules.dep" ] || depmod -b "$kroot" "$KRELEASE" ||
		die "depmod failed for $KRELEASE"
	if [ "$KARCH" = arm64 ]; then
		kmods modules virtio_mmio virtio_pci > "$root/etc/modules.load"
		mkdir -p "$root/modules/kernel"
		for m in leds-gpio gpio_keys evdev; do
			files=$(kmods modules/kernel "$m" | tr '\n' ' ')
			[ -n "$files" ] || die "module $m not found for $KRELEASE"
			echo "$m ${files% }" >> "$root/etc/modules.extra"
		done
	else
		kmods modules virtio_pci > "$root/etc/modules.load"
	fi
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
if [ -d "$bindir" ]; then
	cp -a "$bindir" "$root/tests/bin"
fi
echo "$KVER $KRELEASE" > "$root/etc/gv-kernel"

(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) > "$out.tmp"
mv "$out.tmp" "$out"
