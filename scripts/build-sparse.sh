#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Print the sparse to build kernel TREE with (make C=2 CHECK=...): the
# machine's when the kernel's scripts/checker-valid.sh accepts it, else one
# built from Debian unstable's sparse source package.
#
# Usage: scripts/build-sparse.sh TREE
#   TREE: a kernel source or build tree (its scripts/checker-valid.sh is
#   used; a kernel without one takes any sparse).
#
# Debian 12's sparse (0.6.4) is too old for Linux 7.2, whose Makefile then
# prints "C=2 specified, but sparse is not available or not up to date" and
# checks nothing; unstable's binary package needs a newer glibc than Debian
# 12 has, but its source builds here. The source is fetched with
# apt-get source --download-only through a private apt state
# ($CACHE/apt-unstable-src, one deb-src line for unstable; the machine's
# sources are not touched, nothing comes from anywhere but Debian's
# archive), the .orig.tar.gz is unpacked and built with
# make sparse HAVE_LLVM=no HAVE_LIBXML=no HAVE_SQLITE=no, and kept in
# $CACHE/sparse/VERSION/. A cached build the kernel accepts is used without
# looking at the archive again. The last line on stdout is the program;
# progress goes to stderr.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 1 ] || { echo "usage: $0 KERNEL-TREE" >&2; exit 2; }
TREE=$1
VALID=
for d in "$TREE" "$TREE/source"; do
	[ -f "$d/scripts/checker-valid.sh" ] && { VALID=$d/scripts/checker-valid.sh; break; }
done

# valid PROGRAM: the kernel's own test of a sparse (it prints 1 when good)
valid() {
	[ -z "$VALID" ] && return 0
	[ "$(sh "$VALID" "$1" 2>/dev/null)" = 1 ]
}

if command -v sparse >/dev/null && valid sparse; then
	echo sparse
	exit 0
fi
[ -n "$VALID" ] || die "no sparse on the machine (scripts/install-deps.sh installs it)"

SP=$CACHE/sparse
mkdir -p "$SP"
exec 9>"$SP/.lock"
flock 9

for prog in $(ls -d "$SP"/*/sparse 2>/dev/null | sort -rV); do
	if [ -x "$prog" ] && valid "$prog"; then
		echo "$prog"
		exit 0
	fi
done

APTD=$CACHE/apt-unstable-src
mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial" "$APTD/preferences.d" "$APTD/src"
echo 'deb-src http://deb.debian.org/debian unstable main' >"$APTD/sources.list"
APTOPT=(-o "Dir::Etc::sourcelist=$APTD/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$APTD/lists" -o "Dir::Cache=$APTD/cache"
	-o Dir::State::status=/dev/null -o Dir::Etc::preferences=/dev/null
	-o "Dir::Etc::preferencesparts=$APTD/preferences.d" -o APT::Default-Release=
	-o Acquire::Languages=none -o APT::Sandbox::User=root)
log "the machine's sparse does not pass $VALID: building Debian unstable's"
apt-get -q "${APTOPT[@]}" update >"$APTD/update.log" 2>&1 ||
	{ cat "$APTD/update.log" >&2; die "apt-get update (unstable sources, private state) failed"; }
ver=$(apt-cache "${APTOPT[@]}" showsrc sparse 2>/dev/null |
	awk '$1 == "Version:" { print $2 }' | sort -V | tail -n 1)
[ -n "$ver" ] || die "Debian unstable has no sparse source package"
upver=${ver#*:}
upver=${upver%-*}
rm -rf "$APTD/src" && mkdir -p "$APTD/src"
(cd "$APTD/src" && apt-get -q "${APTOPT[@]}" source --download-only "sparse=$ver" >"$APTD/source.log" 2>&1) ||
	{ cat "$APTD/source.log" >&2; die "apt-get source sparse=$ver failed"; }
orig=$APTD/src/sparse_$upver.orig.tar.gz
[ -f "$orig" ] || die "$orig not downloaded (see $APTD/source.log)"

dest=$SP/$ver
rm -rf "$dest" "$dest.tmp"
mkdir -p "$dest.tmp/src"
tar -xzf "$orig" -C "$dest.tmp/src" --strip-components=1
start=$SECONDS
# SPARSE_VERSION: what sparse --version says (the Makefile would ask git,
# which finds this checkout when the cache is inside it).
make -C "$dest.tmp/src" -j"$(nproc)" sparse HAVE_LLVM=no HAVE_LIBXML=no HAVE_SQLITE=no \
	SPARSE_VERSION="$ver (Debian unstable source)" \
	>"$dest.tmp/build.log" 2>&1 ||
	{ tail -n 20 "$dest.tmp/build.log" >&2; die "building sparse $ver failed"; }
cp "$dest.tmp/src/sparse" "$dest.tmp/sparse"
valid "$dest.tmp/sparse" || die "sparse $ver, built, does not pass $VALID"
mv "$dest.tmp" "$dest"
log "built sparse $ver (Debian unstable source) in $((SECONDS - start)) s: $dest/sparse"
echo "$dest/sparse"
