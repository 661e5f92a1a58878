#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Make a guest kernel ready and describe it in $CACHE/kernels/VER.env.
#
# Usage: scripts/fetch-kernel.sh [--no-source] VER
#        scripts/fetch-kernel.sh --resolve VER
#        scripts/fetch-kernel.sh --extra
#
# VER names a Debian kernel series, the Debian release it comes from and
# the guest architecture: SERIES[-debN][-arm64], or 7.2.
#   6.12        the machine's own release's 6.12 (6.12.N+deb12 on Debian 12,
#               6.12.N+deb13 on Debian 13)
#   6.12-deb13  Debian 13's 6.12 (6.12-deb12: Debian 12's), whatever the
#               machine runs
#   6.1         Debian 12's 6.1 (the only release that has it)
#   -arm64      the arm64 kernel of the same series and release, for guests
#               of qemu-system-aarch64 (6.12-arm64, 6.12-deb13-arm64, ...)
#   7.2         the debug kernel built by scripts/build-debug-kernel.sh
# The newest ABI whose headers and unsigned image both exist is resolved
# now, never hard-coded.
#
# --resolve only prints the Debian packages (name=version) the kernel would
# come from now, on one line, and changes nothing. The env file records the
# packages a prepared kernel came from (KPKGS).
# --extra prints the other Debian release's kernels that this machine can
# build modules for (tests/run.sh boots them with a short suite list), and
# on stderr why any other is left out.
# --no-source leaves out linux-source (make demo needs no source tree; a
# later run without it adds the source to the same env file).
#
# Nothing is installed on the machine. The image, the headers with their
# -common part and the matching linux-kbuild (the host tools, amd64) are
# fetched with apt-get download and unpacked under $CACHE/kernels/VER/:
# root/ the image and its modules (depmod run there), hdr/ the headers as
# dpkg -x lays them out (usr/src/..., usr/lib/linux-kbuild-...). The
# headers are made usable where they are: their Makefile includes the
# common part by absolute path (rewritten to the unpacked copy), and any
# absolute link in them is pointed into the unpacked tree. The source is
# linux-source-SERIES's tarball (downloaded, not installed), extracted once
# per version under $CACHE/src/SERIES (another release's: SERIES-debN).
# Packages of the machine's own release and architecture come through its
# own apt lists; any other release or architecture through a private apt
# state (lib.sh: aptx): nothing is added to the machine's sources or
# architectures.
# Debian's headers name the compiler the kernel was built with (gcc-12 on
# Debian 12, gcc-14 on Debian 13): where the machine lacks that exact
# compiler, its own gcc is used when it is at least that new (CC= in
# KMAKEARGS), and a kernel that needs a newer gcc than the machine has
# (Debian 13's on Debian 12) is refused with that reason. arm64 modules are
# cross-built with KMAKEARGS (ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu-),
# recorded in the env file with KARCH=arm64.
# Set FORCE=1 to resolve again even when the .env file is valid.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
# A command that fails under set -e says which one, rather than nothing.
trap 'log "error: line $LINENO: $BASH_COMMAND failed"' ERR

usage() {
	echo "usage: $0 [--resolve|--no-source] 6.1|6.12|6.12-deb12|6.12-deb13|7.2 (each but 7.2 also with -arm64)" >&2
	echo "       $0 --extra" >&2
	exit 2
}

# parse_ver VER: sets SERIES, KREL (codename), ARCH; false for a name that
# is no Debian kernel of ours (7.2 included)
parse_ver() {
	local v=$1 n
	ARCH=amd64
	case $v in
	*-arm64) ARCH=arm64 v=${v%-arm64} ;;
	esac
	case $v in
	6.1|6.12) SERIES=$v n= ;;
	6.1-deb[0-9]*|6.12-deb[0-9]*) SERIES=${v%-deb*} n=${v##*-deb} ;;
	*) return 1 ;;
	esac
	if [ -z "$n" ]; then
		# 6.1 exists in Debian 12 only; 6.12 follows the machine.
		if [ "$SERIES" = 6.1 ]; then KREL=bookworm; else KREL=$HOST_RELEASE; fi
	else
		KREL=$(release_name "$n") || die "$1: Debian $n is not a release the scripts know"
	fi
	[ "$SERIES" != 6.1 ] || [ "$KREL" = bookworm ] ||
		die "$1: only Debian 12 (bookworm) has a 6.1 kernel"
}

# hdr_re: the headers packages of the series, release and architecture
hdr_re() {
	local n
	n=$(release_num "$KREL")
	case $SERIES in
	6.1) echo "^linux-headers-6\\.1\\.0-[0-9]+-$ARCH\$" ;;
	6.12) echo "^linux-headers-6\\.12\\.[0-9]+\\+deb$n(\\.[0-9]+)?-$ARCH\$" ;;
	esac
}

# gcc_major CC: the major version of compiler CC, or nothing
gcc_major() {
	command -v "$1" >/dev/null 2>&1 || return 0
	"$1" -dumpversion 2>/dev/null | cut -d. -f1
}

# pick_cc NEED: the compiler for a kernel built with gcc-NEED: nothing when
# the machine has the kernel's own ($TRIPLET-gcc-NEED), CC=$TRIPLET-gcc
# when the machine's own is at least as new; false (and CC_WHY) otherwise
pick_cc() {
	local need=$1 have
	PICK_CC=
	command -v "$TRIPLET-gcc-$need" >/dev/null && return 0
	have=$(gcc_major "$TRIPLET-gcc")
	if [ -n "$have" ] && [ "$have" -ge "$need" ]; then
		PICK_CC="CC=$TRIPLET-gcc"
		return 0
	fi
	CC_WHY="it is built with gcc-$need and this machine's $TRIPLET-gcc is ${have:+gcc-}${have:-missing}"
	return 1
}

# setup_apt: after parse_ver, NUM, TRIPLET (the compiler's prefix), APTOPT
# (the apt options of the kernel's release and architecture), KBOPT (the
# same release's packages for the machine, for linux-kbuild and the source;
# empty options stand for the machine's own lists) and WHERE (in words)
setup_apt() {
	local -a kopt
	NUM=$(release_num "$KREL")
	TRIPLET=x86_64-linux-gnu
	[ "$ARCH" = amd64 ] || TRIPLET=aarch64-linux-gnu
	apt_of "$KREL" "$ARCH"
	kopt=("${APTOPT[@]}")
	apt_of "$KREL" "$HOST_ARCH"
	KBOPT=("${APTOPT[@]}")
	APTOPT=("${kopt[@]}")
	WHERE="Debian $NUM ($KREL${kopt[*]:+, private apt state $CACHE/apt-$KREL-$ARCH})"
}

# has_version PKG VERSION [APT-OPTIONS...]: apt knows PKG at VERSION
has_version() {
	local pkg=$1 ver=$2
	shift 2
	{ apt-cache "$@" madison "$pkg" 2>/dev/null || true; } |
		awk -F' *[|] *' -v v="$ver" '$2 == v { f = 1 } END { exit !f }'
}

# candidates PKG... [-- APT-OPTIONS...]: "PKG VERSION" for each PKG apt can
# install (one apt-cache run: without a package cache, as on this kind of
# machine, each run reads every list again)
candidates() {
	local -a pkgs=()
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pkgs+=("$1"); shift; done
	[ $# = 0 ] || shift
	{ apt-cache "$@" policy "${pkgs[@]}" 2>/dev/null || true; } |
		awk '/^[^ ].*:$/ { p = substr($0, 1, length($0) - 1) }
			$1 == "Candidate:" && $2 != "(none)" { print p, $2 }'
}

# resolve_release: the newest ABI whose headers and unsigned image exist,
# and whose linux-kbuild (the host tools) the amd64 lists have at the
# headers' version. The lists of another architecture may be newer than
# the machine's: an ABI whose host tools the amd64 lists do not have yet is
# skipped with a note. Sets KRELEASE, HDRPKG, IMGPKG, COMMON, KBUILD,
# CCMAJ (the major version of the gcc the headers name), hdrver and imgver; KRELEASE is
# empty when there is none.
resolve_release() {
	local hdr rel c dep
	KRELEASE=
	for hdr in $(apt-cache "${APTOPT[@]}" pkgnames "linux-headers-$SERIES" |
		grep -E "$(hdr_re)" | sort -rV); do
		rel=${hdr#linux-headers-}
		c=$(candidates "$hdr" "linux-image-$rel-unsigned" -- "${APTOPT[@]}")
		hdrver=$(echo "$c" | awk -v p="$hdr" '$1 == p { print $2 }')
		imgver=$(echo "$c" | awk -v p="linux-image-$rel-unsigned" '$1 == p { print $2 }')
		[ -n "$hdrver" ] && [ -n "$imgver" ] || continue
		# The headers' Depends name the -common part (at the same
		# version), linux-kbuild and the compiler.
		dep=$({ apt-cache "${APTOPT[@]}" show "$hdr=$hdrver" 2>/dev/null || true; } |
			awk '/^Depends: / && !done { sub(/^Depends: /, ""); print; done = 1 }' |
			tr ',|' '\n\n' | sed 's/^ *//; s/ .*//')
		COMMON=$(echo "$dep" | awk '/^linux-headers-.*-common$/ { print; exit }')
		KBUILD=$(echo "$dep" | awk '/^linux-kbuild-/ { print; exit }')
		# gcc-14, or linux-compiler-gcc-12-x86 (6.1): the major version
		CCMAJ=$(echo "$dep" | sed -n 's/^\(linux-compiler-\)\{0,1\}gcc-\([0-9][0-9]*\)\(-.*\)\{0,1\}$/\2/p' |
			awk 'NR == 1')
		[ -n "$COMMON" ] && [ -n "$KBUILD" ] ||
			die "cannot tell which -common and linux-kbuild packages $hdr needs"
		if ! has_version "$KBUILD" "$hdrver" "${KBOPT[@]}"; then
			log "note: $rel skipped: the amd64 lists have no $KBUILD $hdrver for it (yet)"
			continue
		fi
		KRELEASE=$rel HDRPKG=$hdr IMGPKG=linux-image-$rel-unsigned
		return
	done
}

# pkgs: the packages of the resolved kernel, name=version
pkgs() {
	echo "$IMGPKG=$imgver $HDRPKG=$hdrver $COMMON=$hdrver $KBUILD=$hdrver"
}

RESOLVE=0 NOSRC=0 EXTRA=0
case "${1:-}" in
--resolve) RESOLVE=1; shift ;;
--no-source) NOSRC=1; shift ;;
--extra) EXTRA=1; shift; [ $# = 0 ] || usage; set -- extra ;;
esac
[ $# = 1 ] || usage
VER=$1

if [ "$VER" = 7.2 ]; then
	if [ $RESOLVE = 1 ]; then
		exec "$REPO/scripts/build-debug-kernel.sh" --resolve
	fi
	ENVF=$CACHE/kernels/$VER.env
	mkdir -p "$CACHE/kernels"
	exec 9>"$CACHE/kernels/.$VER.lock"
	flock 9
	if [ "${FORCE:-0}" != 1 ] && env_files_ok "$ENVF"; then
		log "kernel $VER: cached ($ENVF)"
		exit 0
	fi
	"$REPO/scripts/build-debug-kernel.sh"
	env_files_ok "$ENVF" || die "build-debug-kernel.sh did not write a valid $ENVF"
	exit 0
fi

host_release_ok
if [ $EXTRA = 0 ]; then
	parse_ver "$VER" || usage
	setup_apt
fi

# --extra: the other release's 6.12 (amd64; arm64 too where the other is
# Debian 13) that this machine can build modules for
if [ $EXTRA = 1 ]; then
	other=$(other_release)
	n=$(release_num "$other")
	out=
	for v in "6.12-deb$n" "6.12-deb$n-arm64"; do
		[ "$v" != 6.12-deb12-arm64 ] || continue
		parse_ver "$v"
		setup_apt
		resolve_release 2>/dev/null
		if [ -z "$KRELEASE" ]; then
			echo "$v: left out: no linux-headers-$SERIES...-$ARCH with its image in $WHERE" >&2
		elif [ -n "$CCMAJ" ] && ! pick_cc "$CCMAJ"; then
			echo "$v: left out: $HDRPKG cannot be built for here: $CC_WHY (Debian $n's own root can: tests/release-root.sh)" >&2
		else
			out="$out $v"
		fi
	done
	echo "${out# }"
	exit 0
fi

if [ $RESOLVE = 1 ]; then
	resolve_release
	[ -n "$KRELEASE" ] || die "no linux-headers-$SERIES...-$ARCH with a matching image in $WHERE"
	echo "$(pkgs) linux-source-$SERIES=$(candidates "linux-source-$SERIES" -- "${KBOPT[@]}" |
		awk '{ print $2 }') ($WHERE)"
	exit 0
fi

ENVF=$CACHE/kernels/$VER.env
mkdir -p "$CACHE/kernels"
exec 9>"$CACHE/kernels/.$VER.lock"
flock 9

# (an env file without KDEBIAN was written by an older checkout: its KDIR
# may be headers that checkout installed in /usr/src, so it is redone)
if [ "${FORCE:-0}" != 1 ] && env_files_ok "$ENVF" "$([ $NOSRC = 1 ] && echo nosrc)" &&
	grep -q '^KDEBIAN=' "$ENVF"; then
	log "kernel $VER: cached ($ENVF)"
	exit 0
fi

# Newest ABI first: the first headers package with a matching unsigned image.
resolve_release
[ -n "$KRELEASE" ] || die "no linux-headers-$SERIES...-$ARCH with a matching" \
	"linux-image-...-$ARCH-unsigned in $WHERE" \
	"(run scripts/install-deps.sh, which runs apt-get update)"
log "kernel $VER: $KRELEASE from $WHERE"

# The compiler the headers name (gcc-12, gcc-14): the kernel's own where the
# machine has it, else the machine's own when it is at least as new.
PICK_CC=
if [ -n "$CCMAJ" ] && ! pick_cc "$CCMAJ"; then
	die "$HDRPKG cannot be built for on this machine: $CC_WHY" \
		"(Debian $NUM's kernels need Debian $NUM's compiler: prepare $VER on Debian $NUM)"
fi
[ -z "$PICK_CC" ] || log "note: $HDRPKG names $TRIPLET-gcc-$CCMAJ, which this machine lacks: using $PICK_CC (gcc $(gcc_major "$TRIPLET-gcc"))"

# Everything under $CACHE/kernels/VER: root/ the image and modules, hdr/ the
# headers and the kbuild tools as dpkg -x lays them out.
D=$CACHE/kernels/$VER
key="$(pkgs) ($KREL)"
if [ "$(cat "$D/.packages" 2>/dev/null)" != "$key" ] ||
	[ ! -f "$D/root/boot/vmlinuz-$KRELEASE" ]; then
	rm -rf "$D" && mkdir -p "$D/debs"
	log "downloading $key"
	(cd "$D/debs" && apt-get "${APTOPT[@]}" -q -o APT::Sandbox::User=root download \
		"$IMGPKG=$imgver" "$HDRPKG=$hdrver" "$COMMON=$hdrver" >/dev/null) ||
		die "apt-get download of the kernel packages failed ($WHERE)"
	(cd "$D/debs" && apt-get "${KBOPT[@]}" -q -o APT::Sandbox::User=root download \
		"$KBUILD=$hdrver" >/dev/null) ||
		die "apt-get download $KBUILD=$hdrver failed"
	dpkg -x "$D"/debs/"${IMGPKG}"_*.deb "$D/root"
	if [ ! -d "$D/root/lib/modules" ] && [ -d "$D/root/usr/lib/modules" ]; then
		ln -s usr/lib "$D/root/lib"
	fi
	# The package's postinst would run depmod; nothing runs it for us.
	depmod -b "$D/root" "$KRELEASE"
	for p in "$HDRPKG" "$COMMON" "$KBUILD"; do
		dpkg -x "$D"/debs/"${p}"_*.deb "$D/hdr"
	done
	rm -rf "$D/debs"
	echo "$key" >"$D/.packages"
fi
KIMAGE=$D/root/boot/vmlinuz-$KRELEASE
KMODROOT=$D/root/lib/modules/$KRELEASE
[ -f "$KIMAGE" ] || die "$KIMAGE missing in $IMGPKG"
[ -d "$KMODROOT" ] || die "$KMODROOT missing in $IMGPKG"

# The headers, made to work where they are: the Makefile's include of the
# common part, and every absolute link, lead into the unpacked tree.
KDIR=$D/hdr/usr/src/$HDRPKG
H=$D/hdr
sed -i "s|^include /usr/src/|include $H/usr/src/|" "$KDIR/Makefile"
grep -q "^include $H/usr/src/$COMMON/Makefile" "$KDIR/Makefile" ||
	die "unexpected $KDIR/Makefile: $(head -n 3 "$KDIR/Makefile")"
while IFS= read -r -d '' l; do
	t=$(readlink "$l")
	[ -e "$H$t" ] || [ -L "$H$t" ] || continue
	ln -sfn "$H$t" "$l"
done < <(find "$H" -type l -lname '/*' ! -lname "$H/*" -print0)
[ -f "$KDIR/scripts/Makefile.modpost" ] || die "$KDIR/scripts does not lead to the kbuild tools ($KBUILD)"
[ -f "$KDIR/.config" ] || die "$KDIR/.config missing in $HDRPKG"
command -v "$TRIPLET-gcc" >/dev/null ||
	die "$TRIPLET-gcc missing (run scripts/install-deps.sh)"
KMAKEARGS=
[ "$ARCH" = amd64 ] || KMAKEARGS="ARCH=arm64 CROSS_COMPILE=$TRIPLET-"
KMAKEARGS="${KMAKEARGS:+$KMAKEARGS }$PICK_CC"
KMAKEARGS=${KMAKEARGS% }

# source_tree: linux-source-SERIES's tarball from the kernel's release,
# downloaded (never installed) and extracted once per package version under
# $CACHE/src/SERIES (another release's: SERIES-debN; one tree for both
# architectures); sets KSRC and srcver.
source_tree() {
	local srcpkg=linux-source-$SERIES dir tmp
	srcver=$(candidates "$srcpkg" -- "${KBOPT[@]}" | awk '{ print $2 }')
	[ -n "$srcver" ] || die "apt-cache knows no $srcpkg in $WHERE"
	dir=$CACHE/src/$SERIES
	[ "$KREL" = "$HOST_RELEASE" ] || dir=$dir-deb$NUM
	if [ -d "$dir/$srcpkg" ] && [ "$(cat "$dir/.version" 2>/dev/null)" = "$srcver" ]; then
		KSRC=$dir/$srcpkg
		return
	fi
	tmp=$CACHE/src/.dl-$SERIES-$NUM
	rm -rf "$tmp" && mkdir -p "$tmp"
	log "downloading $srcpkg $srcver"
	(cd "$tmp" && apt-get "${KBOPT[@]}" -q -o APT::Sandbox::User=root download \
		"$srcpkg=$srcver" >/dev/null) || die "apt-get download $srcpkg failed"
	dpkg-deb --fsys-tarfile "$tmp"/"${srcpkg}"_*.deb |
		tar -x -C "$tmp" "./usr/src/$srcpkg.tar.xz" ||
		die "$srcpkg holds no /usr/src/$srcpkg.tar.xz"
	rm -f "$tmp"/*.deb
	KSRC=$(extract_source "$tmp/usr/src/$srcpkg.tar.xz" "$dir" "$srcver")
	rm -rf "$tmp"
}

KSRC='' srcpkg=''
if [ $NOSRC = 0 ]; then
	source_tree
	srcpkg="linux-source-$SERIES=$srcver"
	[ "${srcver%%-*}" = "${imgver%%-*}" ] ||
		log "warning: linux-source-$SERIES $srcver does not match $IMGPKG $imgver"
fi

write_env "$ENVF" KVER="$VER" KARCH="$([ "$ARCH" = arm64 ] && echo arm64 || echo x86_64)" \
	KDEBIAN="$KREL" KRELEASE="$KRELEASE" KIMAGE="$KIMAGE" KMODROOT="$KMODROOT" \
	KDIR="$KDIR" KSRC="$KSRC" KDEBUG=0 KMAKEARGS="$KMAKEARGS" \
	KPKGS="$(pkgs)${srcpkg:+ $srcpkg} ($WHERE${PICK_CC:+; $PICK_CC})"
log "kernel $VER: ready ($ENVF)"
