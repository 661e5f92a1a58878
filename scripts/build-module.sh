#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build our gpio-virtio.ko for kernel VER (see scripts/fetch-kernel.sh).
#
# Usage: scripts/build-module.sh VER OUTDIR [MAKE-ARGS...]
#
# The driver sources are copied to $CACHE/build/VER/ours/ and built there
# against $KDIR from $CACHE/kernels/VER.env, so builds for several kernels
# never share objects with each other or with the repository. Extra
# arguments go to make (e.g. W=1 C=2). The build log is kept in
# $CACHE/build/VER/ours/build.log; OUTDIR receives gpio-virtio.ko.
# Concurrent runs for one kernel are serialised with a lock file.
#
# COVERAGE=1 builds the module with gcov profiling (GCOV_PROFILE for
# gpio-virtio.o only; the kernel needs CONFIG_GCOV_KERNEL): OUTDIR/gcov/
# then receives the compiler's notes (gpio-virtio.gcno) and the source they
# describe, for scripts/coverage.sh. Without it, OUTDIR/gcov/ is removed.
# GV_SRC=DIR builds the driver found in DIR (gpio-virtio.c, Kbuild, Kconfig,
# include/) instead of the repository's, in GV_BUILD=DIR (default
# $CACHE/build/VER/ours): scripts/mutants.sh builds its mutants this way.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || { echo "usage: $0 KERNEL OUTDIR [MAKE-ARGS...]" >&2; exit 2; }
VER=$1
OUTDIR=$2
shift 2
load_kernel_env "$VER"

SRC=${GV_SRC:-$REPO}
B=${GV_BUILD:-$CACHE/build/$VER/ours}
GCOV=()
if [ "${COVERAGE:-0}" = 1 ]; then
	grep -qx 'CONFIG_GCOV_KERNEL=y' "$KDIR/.config" ||
		die "COVERAGE=1: the $VER kernel ($KDIR) has no CONFIG_GCOV_KERNEL"
	GCOV=(GCOV_PROFILE_gpio-virtio.o=y)
fi
mkdir -p "$CACHE/build/$VER" "$OUTDIR"
# Several scripts may build for the same kernel at once: one at a time here.
exec 9>"$B.lock"
flock 9
rm -rf "$B"
mkdir -p "$B"
cp "$SRC/gpio-virtio.c" "$SRC/Kbuild" "$SRC/Kconfig" "$B/"
cp -r "$SRC/include" "$B/"
if ! make -C "$KDIR" M="$B" ${KMAKE[@]+"${KMAKE[@]}"} ${GCOV[@]+"${GCOV[@]}"} "$@" \
	modules >"$B/build.log" 2>&1; then
	cat "$B/build.log" >&2
	die "building gpio-virtio.ko for $VER failed"
fi
cp "$B/gpio-virtio.ko" "$OUTDIR/"
rm -rf "$OUTDIR/gcov"
if [ ${#GCOV[@]} -gt 0 ]; then
	[ -f "$B/gpio-virtio.gcno" ] || die "COVERAGE=1 but the build left no gpio-virtio.gcno"
	mkdir -p "$OUTDIR/gcov"
	# The guest names the data after the object's path here ($B).
	cp "$B/gpio-virtio.gcno" "$B/gpio-virtio.c" "$OUTDIR/gcov/"
	echo "$B" > "$OUTDIR/gcov/build-dir"
	grep '^CONFIG_CC_VERSION_TEXT=' "$KDIR/.config" > "$OUTDIR/gcov/compiler"
	log "built with gcov profiling: notes in $OUTDIR/gcov"
fi
log "built $OUTDIR/gpio-virtio.ko for ${KRELEASE:-$VER}"
