#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a guest kernel ready and describe it in $CACHE/kernels/VER.env.
#
# Usage: scripts/fetch-kernel.sh VER     (VER: 6.1, 6.12 or 7.2)
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
# Set FORCE=1 to resolve again even when the .env file is valid.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

usage() {
	echo "usage: $0 6.1|6.12|7.2" >&2
	exit 2
}

RESOLVE=0
if [ "${1:-}" = --resolve ]; then
	RESOLVE=1
	shift
fi
[ $# = 1 ] || usage
VER=$1
case $VER in
6.1)
	hdr_re='^linux-headers-6\.1\.0-[0-9]+-amd64$'
	;;
6.12)
	hdr_re='^linux-headers-6\.12\.[0-9]+\+deb12(\.[0-9]+)?-amd64$'
	;;
7.2)
	;;
*)
	usage
	;;
esac

# resolve_release: the newest ABI whose headers and unsigned image both exist
resolve_release() {
	local hdr rel
	for hdr in $(apt-cache pkgnames "linux-headers-$VER" | grep -E "$hdr_re" | sort -rV); do
		rel=${hdr#linux-headers-}
		[ -n "$(apt_candidate "$hdr")" ] || continue
		[ -n "$(apt_candidate "linux-image-$rel-unsigned")" ] || continue
		echo "$rel"
		return
	done
}

# pkgs_of RELEASE: the packages of a Debian kernel, name=version
pkgs_of() {
	local p out=
	for p in "linux-image-$1-unsigned" "linux-headers-$1" "linux-source-$VER"; do
		out="$out $p=$(apt_candidate "$p")"
	done
	echo "${out# }"
}

if [ $RESOLVE = 1 ]; then
	if [ "$VER" = 7.2 ]; then
		exec "$REPO/scripts/build-debug-kernel.sh" --resolve
	fi
	rel=$(resolve_release)
	[ -n "$rel" ] || die "no linux-headers-$VER...-amd64 with a matching image found by apt-cache"
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
[ -n "$KRELEASE" ] || die "no linux-headers-$VER...-amd64 with a matching" \
	"linux-image-...-amd64-unsigned found by apt-cache" \
	"(run scripts/install-deps.sh, which adds bookworm-backports and runs apt-get update)"
IMGPKG=linux-image-$KRELEASE-unsigned
log "kernel $VER: $KRELEASE"

installed_version() {
	dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' "$1" 2>/dev/null |
		awk '$1 == "ii" { print $2 }'
}

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
SRCPKG=linux-source-$VER
srcver=$(apt_candidate "$SRCPKG")
[ -n "$srcver" ] || die "apt-cache knows no $SRCPKG"
if [ "$(installed_version "$SRCPKG")" != "$srcver" ]; then
	log "installing $SRCPKG $srcver"
	$APT_GET install -y -q --no-install-recommends "$SRCPKG" >/dev/null ||
		die "apt-get install $SRCPKG failed"
fi
tarball=/usr/src/$SRCPKG.tar.xz
[ -f "$tarball" ] || die "$tarball missing after installing $SRCPKG"
if [ "${srcver%%-*}" != "${imgver%%-*}" ]; then
	log "warning: $SRCPKG $srcver does not match $IMGPKG $imgver"
fi
KSRC=$(extract_source "$tarball" "$CACHE/src/$VER" "$srcver")

write_env "$ENVF" KVER="$VER" KRELEASE="$KRELEASE" KIMAGE="$KIMAGE" \
	KMODROOT="$KMODROOT" KDIR="$KDIR" KSRC="$KSRC" KDEBUG=0 \
	KPKGS="$IMGPKG=$imgver linux-headers-$KRELEASE=$(installed_version "linux-headers-$KRELEASE") $SRCPKG=$srcver"
log "kernel $VER: ready ($ENVF)"
