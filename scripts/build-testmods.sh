#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the test-only kernel modules (tests/modules/*/, e.g. gv-irqtest.ko)
# for kernel VER (see scripts/fetch-kernel.sh).
#
# Usage: scripts/build-testmods.sh VER OUTDIR [MAKE-ARGS...]
#
# Each module directory is copied to $CACHE/build/VER/testmods-src/NAME/ and
# built there against $KDIR from $CACHE/kernels/VER.env; OUTDIR receives the
# .ko files. Extra arguments go to make (e.g. W=1 C=2). Fails on any build
# error or compiler warning.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# -ge 2 ] || { echo "usage: $0 KERNEL OUTDIR [MAKE-ARGS...]" >&2; exit 2; }
VER=$1
OUTDIR=$2
shift 2
load_kernel_env "$VER"

SRCROOT=$CACHE/build/$VER/testmods-src
mkdir -p "$CACHE/build/$VER" "$OUTDIR"
exec 9>"$SRCROOT.lock"
flock 9
rm -rf "$SRCROOT"
mkdir -p "$SRCROOT"

built=0
for d in "$REPO"/tests/modules/*/; do
	[ -f "$d/Kbuild" ] || continue
	name=$(basename "$d")
	B=$SRCROOT/$name
	cp -r "$d" "$B"
	if ! make -C "$KDIR" M="$B" ${KMAKE[@]+"${KMAKE[@]}"} "$@" modules >"$B/build.log" 2>&1; then
		cat "$B/build.log" >&2
		die "building test module $name for $VER failed"
	fi
	if grep -E 'warning:|error:' "$B/build.log" >&2; then
		die "test module $name for $VER built with warnings"
	fi
	for ko in "$B"/*.ko; do
		cp "$ko" "$OUTDIR/"
		log "built $OUTDIR/$(basename "$ko") for ${KRELEASE:-$VER}"
		built=$((built + 1))
	done
done
[ $built -gt 0 ] || die "no test module found under $REPO/tests/modules"
