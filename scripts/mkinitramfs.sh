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
# busybox-static and libgpiod from Debian's arm64 packages, the loader and
# libc of the cross toolchain (libc6-arm64-cross), tests/guest/bin-arm64.
# It also loads virtio_mmio at boot, and carries the kernel's gpio-leds,
# gpio-keys and evdev modules (with what they depend on) under
# /modules/kernel/ for the suites to load: /etc/modules.extra lists them,
# one "NAME FILE..." line each, the files in load order.
#
# The libgpiod tools are Debian's, fetched with apt-get download and
# unpacked under $CACHE/gpiod/ (never installed), once per version: the 1.6
# generation from Debian 12 (the last release that has it), the 2.x one
# from the machine's own release (Debian 13: its libgpiod3; Debian 12:
# bookworm-backports). Another release's or architecture's packages come
# through a private apt state (lib.sh: aptx); the machine's own through its
# own lists.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

RESOLVE=
if [ "${1:-}" = --resolve ]; then
	RESOLVE=${2:?usage: $0 --resolve amd64|arm64}
else
	envfile=$1 out=$2
	shift 2
	. "$envfile"
fi
KARCH=${KARCH:-x86_64}

# newest_major PKG MAJOR: the newest version apt knows of PKG whose
# upstream version starts with MAJOR. (APTOPT)
newest_major() {
	{ apt-cache "${APTOPT[@]}" madison "$1" 2>/dev/null || true; } |
		awk -F' *[|] *' -v m="$2" '{ v = $2; sub(/^[0-9]+:/, "", v) }
			index(v, m ".") == 1 { print $2 }' | sort -V | awk 'END { if (NR) print }'
}

# gpiod_gen DIR REL GEN: the libgpiod GEN.x tools (gpiod and its library,
# libgpiod2 for 1.x, libgpiod3 for 2.x) of Debian REL for the guest's
# architecture, unpacked into DIR once per version
# gpiod_pick REL GEN: sets lib, ver, libver and key for gpiod_gen
gpiod_pick() {
	local rel=$1 gen=$2
	case $gen in 1) lib=libgpiod2 ;; 2) lib=libgpiod3 ;; esac
	apt_of "$rel" "$DARCH"
	ver=$(newest_major gpiod "$gen")
	libver=$(newest_major "$lib" "$gen")
	[ -n "$ver" ] && [ -n "$libver" ] ||
		die "Debian $rel has no gpiod $gen.x and $lib for $DARCH (did scripts/install-deps.sh run?)"
	key="gpiod=$ver $lib=$libver ($rel $DARCH)"
}

gpiod_gen() {
	local dir=$1 rel=$2 gen=$3 lib ver libver tmp key pkg
	gpiod_pick "$rel" "$gen"
	if [ -e "$dir/usr/bin/gpiodetect" ] && [ "$(cat "$dir/.packages" 2>/dev/null)" = "$key" ]; then
		return 0
	fi
	tmp=$(mktemp -d)
	chmod 755 "$tmp"
	(cd "$tmp" && apt-get "${APTOPT[@]}" -q -o APT::Sandbox::User=root download \
		"gpiod=$ver" "$lib=$libver" >/dev/null 2>&1) ||
		die "cannot download gpiod=$ver $lib=$libver of Debian $rel for $DARCH"
	rm -rf "$dir" && mkdir -p "$dir"
	for pkg in "$tmp"/*.deb; do dpkg -x "$pkg" "$dir"; done
	rm -rf "$tmp"
	[ -e "$dir/usr/bin/gpiodetect" ] || die "gpiodetect missing after unpacking $key"
	echo "$key" > "$dir/.packages"
}

. "$top/scripts/lib.sh"
host_release_ok

# --resolve ARCH: the libgpiod packages a guest of ARCH would get now, and
# busybox-static's, one line each; nothing is built
if [ -n "$RESOLVE" ]; then
	DARCH=$RESOLVE
	for g in 1 2; do
		rel=bookworm
		[ $g = 1 ] || rel=$HOST_RELEASE
		gpiod_pick "$rel" "$g"
		echo "libgpiod $g.x tools ($DARCH): $key"
	done
	if [ "$DARCH" = "$HOST_ARCH" ]; then
		echo "busybox-static: $(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null) (the machine's)"
	else
		apt_of "$HOST_RELEASE" "$DARCH"
		echo "busybox-static ($DARCH): $(apt_candidate busybox-static "${APTOPT[@]}") ($HOST_RELEASE)"
	fi
	exit 0
fi

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,dev,proc,sys,tmp,run,etc,modules,mnt}

if [ "$KARCH" = arm64 ]; then
	DARCH=arm64
	G=$CACHE/gpiod/arm64-
	TRIPLET=aarch64-linux-gnu
	# busybox-static of the machine's release, arm64
	apt_of "$HOST_RELEASE" arm64
	# (Debian 12's package has bin/busybox, Debian 13's usr/bin/busybox)
	bb=$CACHE/arm64-user/busybox
	# bb_bin: the unpacked busybox's path, or nothing
	bb_bin() {
		local f
		for f in "$bb/usr/bin/busybox" "$bb/bin/busybox"; do
			[ -f "$f" ] && { echo "$f"; return; }
		done
		return 0
	}
	bbin=$(bb_bin)
	if [ -z "$bbin" ]; then
		tmp=$(mktemp -d)
		chmod 755 "$tmp"
		(cd "$tmp" && apt-get "${APTOPT[@]}" -q download busybox-static >/dev/null 2>&1) ||
			die "cannot download busybox-static for arm64"
		rm -rf "$bb" && mkdir -p "$bb"
		dpkg -x "$tmp"/busybox-static_*.deb "$bb"
		rm -rf "$tmp"
		bbin=$(bb_bin)
		[ -n "$bbin" ] || die "busybox-static for arm64 holds no bin/busybox or usr/bin/busybox"
	fi
	cp "$bbin" "$root/bin/busybox"
	# The loader and libc of the cross toolchain (the machine's
	# release's glibc, which the arm64 packages of that release and
	# of Debian 12 run on).
	mkdir -p "$root/lib/$TRIPLET"
	cp -L "/usr/$TRIPLET/lib/ld-linux-aarch64.so.1" "$root/lib/"
	cp -L "/usr/$TRIPLET/lib/libc.so.6" "$root/lib/$TRIPLET/"
	bindir=$top/tests/guest/bin-arm64
else
	DARCH=amd64
	G=$CACHE/gpiod/
	TRIPLET=x86_64-linux-gnu
	cp /bin/busybox "$root/bin/busybox"
	# The dynamic loader and libc of the host (the machine's release,
	# which the libgpiod packages of that release and of Debian 12 run on).
	mkdir -p "$root/lib64" "$root/lib/$TRIPLET"
	cp -L /lib64/ld-linux-x86-64.so.2 "$root/lib64/"
	cp -L "/lib/$TRIPLET/libc.so.6" "$root/lib/$TRIPLET/"
	bindir=$top/tests/guest/bin
fi
ln -s busybox "$root/bin/sh"
gpiod_gen "${G}1" bookworm 1
gpiod_gen "${G}2" "$HOST_RELEASE" 2

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
