#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a guest kernel ready and describe it in $CACHE/kernels/VER.env.
#
# Usage: scripts/fetch-kernel.sh VER     (VER: 6.1, 6.12, 7.2, 6.1-arm64 or
#                                          6.12-arm64)
#        scripts/fetch-kernel.sh --resolve VER
#
# --resolve only prints the Debian packages (name=version) the kernel would
# come from now, on one line, and changes nothing. The env file records the
# packages a prepared kernel came from (KPKGS).
#
# 6.1 and 6.12 come from Debian 12 (bookworm, -security, -backports): the
# newest ABI whose headers and unsigned image both exist, resolved now. The
# headers are installed with apt-get; the image is only downloaded and
# unpacked under the cache. 7.2 is built by scripts/build-debug-kernel.sh.
#
# 6.1-arm64 and 6.12-arm64 are Debian's arm64 kernels of the same series,
# for guests of qemu-system-aarch64: the image, the headers and the common
# headers are fetched with apt-get download through a private apt state
# (lib.sh: apt64; arm64 is never added to the machine's architectures) and
# unpacked under $CACHE/kernels/VER/. The headers are made usable there:
# their Makefile includes the common headers' Makefile by absolute path
# (rewritten to the unpacked copy) and their scripts and tools are relative
# links into /usr/lib/linux-kbuild-*, which the host's own (amd64)
# linux-kbuild package provides, installed with apt-get when missing.
# Modules are cross-built with KMAKEARGS (ARCH=arm64
# CROSS_COMPILE=aarch64-linux-gnu-), recorded in the env file with
# KARCH=arm64.
# Set FORCE=1 to resolve again even when the .env file is valid.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# A command that fails under set -e says which one, rather than nothing.
trap 'log "error: line $LINENO: $BASH_COMMAND failed"' ERR

usage() {
	echo "usage: $0 6.1|6.12|7.2|6.1-arm64|6.12-arm64" >&2
	exit 2
}

RESOLVE=0
if [ "${1:-}" = --resolve ]; then
	RESOLVE=1
	shift
fi
[ $# = 1 ] || usage
VER=$1
ARCH=amd64
case $VER in
*-arm64) ARCH=arm64 ;;
esac
SERIES=${VER%-arm64}
case $VER in
6.1|6.1-arm64)
	hdr_re="^linux-headers-6\\.1\\.0-[0-9]+-$ARCH\$"
	;;
6.12|6.12-arm64)
	hdr_re="^linux-headers-6\\.12\\.[0-9]+\\+deb12(\\.[0-9]+)?-$ARCH\$"
	;;
7.2)
	;;
*)
	usage
	;;
esac

# APTOPT: the apt options of the architecture's package lists (none for
# the machine's own)
APTOPT=()
if [ "$ARCH" = arm64 ]; then
	apt64_update
	apt64_opts
	APTOPT=("${APT64[@]}")
fi

# resolve_release: the newest ABI whose headers and unsigned image both exist
# kbuild_of HEADERS: the amd64 linux-kbuild package an arm64 headers package
# names (linux-kbuild-6.12.N+deb12, or linux-kbuild-6.1 for 6.1)
kbuild_of() {
	apt-cache "${APTOPT[@]}" show "$1" 2>/dev/null |
		sed -n 's/^Depends: //p' | tr ',' '\n' |
		sed -n 's/^ *\(linux-kbuild-[^ ]*\).*/\1/p' | head -n 1
}

resolve_release() {
	local hdr rel kb
	for hdr in $(apt-cache "${APTOPT[@]}" pkgnames "linux-headers-$SERIES" |
		grep -E "$hdr_re" | sort -rV); do
		rel=${hdr#linux-headers-}
		[ -n "$(apt_candidate "$hdr" "${APTOPT[@]}")" ] || continue
		[ -n "$(apt_candidate "linux-image-$rel-unsigned" "${APTOPT[@]}")" ] || continue
		if [ "$ARCH" = arm64 ]; then
			# The arm64 lists may be newer than the machine's: an ABI
			# whose host tools the machine cannot install yet is skipped.
			kb=$(kbuild_of "$hdr")
			if [ -z "$kb" ] || [ -z "$(apt_candidate "$kb")" ]; then
				log "note: $rel skipped: the machine's apt has no ${kb:-linux-kbuild package} for it (yet)"
				continue
			fi
		fi
		echo "$rel"
		return
	done
}

# pkgs_of RELEASE: the packages of a Debian kernel, name=version
pkgs_of() {
	local p out=
	for p in "linux-image-$1-unsigned" "linux-headers-$1"; do
		out="$out $p=$(apt_candidate "$p" "${APTOPT[@]}")"
	done
	if [ "$ARCH" = arm64 ]; then
		p=linux-headers-${1%-arm64}-common
		out="$out $p=$(apt_candidate "$p" "${APTOPT[@]}")"
	fi
	p=linux-source-$SERIES
	echo "${out# } $p=$(apt_candidate "$p")"
}

if [ $RESOLVE = 1 ]; then
	if [ "$VER" = 7.2 ]; then
		exec "$REPO/scripts/build-debug-kernel.sh" --resolve
	fi
	rel=$(resolve_release)
	[ -n "$rel" ] || die "no linux-headers-$SERIES...-$ARCH with a matching image found by apt-cache"
	pkgs_of "$rel"
	exit 0
fi

ENVF=$CACHE/kernels/$VER.env
mkdir -p "$CACHE/kernels"
exec 9>"$CACHE/kernels/.$VER.lock"
flock 9

if [ "${FORCE:-0}" != 1 ] && env_files_ok "$ENVF"; then
	log "kernel $VER: cached ($ENVF)"
	exit 0
fi

if [ "$VER" = 7.2 ]; then
	"$REPO/scripts/build-debug-kernel.sh"
	env_files_ok "$ENVF" || die "build-debug-kernel.sh did not write a valid $ENVF"
	exit 0
fi

# Newest ABI first: the first headers package with a matching unsigned image.
KRELEASE=$(resolve_release)
[ -n "$KRELEASE" ] || die "no linux-headers-$SERIES...-$ARCH with a matching" \
	"linux-image-...-$ARCH-unsigned found by apt-cache" \
	"(run scripts/install-deps.sh, which adds bookworm-backports and runs apt-get update)"
IMGPKG=linux-image-$KRELEASE-unsigned
log "kernel $VER: $KRELEASE"

installed_version() {
	# Empty, not a failure, for a package dpkg does not know.
	{ dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null || true; } |
		awk '$1 == "ii" { print $2 }'
}

# source_tree: linux-source-SERIES's tarball, extracted once per package
# version under $CACHE/src/SERIES (one tree for both architectures); sets
# KSRC and srcver.
source_tree() {
	local srcpkg=linux-source-$SERIES tarball
	srcver=$(apt_candidate "$srcpkg")
	[ -n "$srcver" ] || die "apt-cache knows no $srcpkg"
	if [ "$(installed_version "$srcpkg")" != "$srcver" ]; then
		log "installing $srcpkg $srcver"
		$APT_GET install -y -q --no-install-recommends "$srcpkg" >/dev/null ||
			die "apt-get install $srcpkg failed"
	fi
	tarball=/usr/src/$srcpkg.tar.xz
	[ -f "$tarball" ] || die "$tarball missing after installing $srcpkg"
	KSRC=$(extract_source "$tarball" "$CACHE/src/$SERIES" "$srcver")
}

if [ "$ARCH" = arm64 ]; then
	# Everything under $CACHE/kernels/VER: root/ the image and modules,
	# hdr/ the headers as dpkg -x lays them out (usr/src/...).
	D=$CACHE/kernels/$VER
	COMMON=linux-headers-${KRELEASE%-arm64}-common
	HDRPKG=linux-headers-$KRELEASE
	imgver=$(apt_candidate "$IMGPKG" "${APTOPT[@]}")
	hdrver=$(apt_candidate "$HDRPKG" "${APTOPT[@]}")
	comver=$(apt_candidate "$COMMON" "${APTOPT[@]}")
	[ -n "$comver" ] || die "apt-cache knows no $COMMON for arm64"
	key="$IMGPKG=$imgver $HDRPKG=$hdrver $COMMON=$comver"
	# The host tools: the amd64 linux-kbuild package the headers name
	# (linux-kbuild-6.12.N+deb12, or linux-kbuild-6.1 for 6.1).
	KBUILD=$(kbuild_of "$HDRPKG=$hdrver")
	[ -n "$KBUILD" ] || die "cannot tell which linux-kbuild package $HDRPKG needs"
	kbver=$(installed_version "$KBUILD")
	if [ -z "$kbver" ] || { [ "$kbver" != "$hdrver" ] &&
		[ "$(apt_candidate "$KBUILD")" = "$hdrver" ]; }; then
		log "installing $KBUILD (host tools for the arm64 headers)"
		$APT_GET install -y -q --no-install-recommends "$KBUILD" >/dev/null ||
			die "apt-get install $KBUILD failed"
		kbver=$(installed_version "$KBUILD")
	fi
	[ "$kbver" = "$hdrver" ] ||
		log "warning: $KBUILD $kbver does not match $HDRPKG $hdrver"
	if [ "$(cat "$D/.packages" 2>/dev/null)" != "$key" ] ||
		[ ! -f "$D/root/boot/vmlinuz-$KRELEASE" ]; then
		rm -rf "$D" && mkdir -p "$D/debs"
		log "downloading $key"
		# shellcheck disable=SC2086
		(cd "$D/debs" && apt-get "${APTOPT[@]}" -q download $key >/dev/null) ||
			die "apt-get download of the arm64 kernel packages failed"
		dpkg -x "$D"/debs/"${IMGPKG}"_*.deb "$D/root"
		if [ ! -d "$D/root/lib/modules" ] && [ -d "$D/root/usr/lib/modules" ]; then
			ln -s usr/lib "$D/root/lib"
		fi
		depmod -b "$D/root" "$KRELEASE"
		dpkg -x "$D"/debs/"${HDRPKG}"_*.deb "$D/hdr"
		dpkg -x "$D"/debs/"${COMMON}"_*.deb "$D/hdr"
		rm -rf "$D/debs"
		echo "$key" >"$D/.packages"
	fi
	KDIR=$D/hdr/usr/src/$HDRPKG
	# Made to work where it is: the common Makefile of the unpacked copy,
	# the host's kbuild tools for the relative scripts and tools links.
	sed -i "s|^include /usr/src/$COMMON/Makefile|include $D/hdr/usr/src/$COMMON/Makefile|" "$KDIR/Makefile"
	grep -q "^include $D/hdr/" "$KDIR/Makefile" || die "unexpected $KDIR/Makefile: $(head -n 3 "$KDIR/Makefile")"
	kb=$(readlink "$KDIR/scripts")
	kb=${kb%/scripts}
	kb=${kb##*/}
	[ -d "/usr/lib/$kb" ] || die "/usr/lib/$kb missing ($KBUILD installed?)"
	mkdir -p "$D/hdr/usr/lib"
	ln -sfn "/usr/lib/$kb" "$D/hdr/usr/lib/$kb"
	[ -f "$KDIR/scripts/Makefile.modpost" ] || die "$KDIR/scripts does not lead to the kbuild tools"
	command -v aarch64-linux-gnu-gcc >/dev/null ||
		die "aarch64-linux-gnu-gcc missing (run scripts/install-deps.sh)"
	source_tree
	write_env "$ENVF" KVER="$VER" KARCH=arm64 KRELEASE="$KRELEASE" \
		KIMAGE="$D/root/boot/vmlinuz-$KRELEASE" KMODROOT="$D/root/lib/modules/$KRELEASE" \
		KDIR="$KDIR" KSRC="$KSRC" KDEBUG=0 \
		KMAKEARGS="ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-" \
		KPKGS="$key $KBUILD=$kbver (amd64) linux-source-$SERIES=$srcver"
	log "kernel $VER: ready ($ENVF)"
	exit 0
fi

# Headers: installed on the host (the external-module build needs them).
if [ -z "$(installed_version "linux-headers-$KRELEASE")" ]; then
	log "installing linux-headers-$KRELEASE"
	$APT_GET install -y -q --no-install-recommends "linux-headers-$KRELEASE" >/dev/null ||
		die "apt-get install linux-headers-$KRELEASE failed"
fi
KDIR=/usr/src/linux-headers-$KRELEASE
[ -f "$KDIR/Makefile" ] || die "$KDIR/Makefile missing after installing the headers"

# Image and modules: downloaded and unpacked, never installed.
KROOT=$CACHE/kernels/$VER/root
imgver=$(apt_candidate "$IMGPKG")
if [ "$(cat "$KROOT/.package" 2>/dev/null)" != "$IMGPKG $imgver" ] ||
	[ ! -f "$KROOT/boot/vmlinuz-$KRELEASE" ]; then
	debs=$CACHE/kernels/$VER/debs
	rm -rf "$debs" "$KROOT" "$KROOT.tmp"
	mkdir -p "$debs"
	log "downloading $IMGPKG $imgver"
	(cd "$debs" && apt-get -q -o APT::Sandbox::User=root download "$IMGPKG=$imgver" >/dev/null) ||
		die "apt-get download $IMGPKG failed"
	dpkg -x "$debs"/"${IMGPKG}"_*.deb "$KROOT.tmp"
	if [ ! -d "$KROOT.tmp/lib/modules" ] && [ -d "$KROOT.tmp/usr/lib/modules" ]; then
		ln -s usr/lib "$KROOT.tmp/lib"
	fi
	# The package's postinst would run depmod; nothing runs it for us.
	depmod -b "$KROOT.tmp" "$KRELEASE"
	echo "$IMGPKG $imgver" >"$KROOT.tmp/.package"
	mv "$KROOT.tmp" "$KROOT"
	rm -rf "$debs"
fi
KIMAGE=$KROOT/boot/vmlinuz-$KRELEASE
KMODROOT=$KROOT/lib/modules/$KRELEASE
[ -f "$KIMAGE" ] || die "$KIMAGE missing in $IMGPKG"
[ -d "$KMODROOT" ] || die "$KMODROOT missing in $IMGPKG"

# Source: linux-source-VER's tarball, extracted once per package version.
source_tree
if [ "${srcver%%-*}" != "${imgver%%-*}" ]; then
	log "warning: linux-source-$SERIES $srcver does not match $IMGPKG $imgver"
fi

write_env "$ENVF" KVER="$VER" KRELEASE="$KRELEASE" KIMAGE="$KIMAGE" \
	KMODROOT="$KMODROOT" KDIR="$KDIR" KSRC="$KSRC" KDEBUG=0 \
	KPKGS="$IMGPKG=$imgver linux-headers-$KRELEASE=$(installed_version "linux-headers-$KRELEASE") linux-source-$SERIES=$srcver"
log "kernel $VER: ready ($ENVF)"
