#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the kernel's own drivers/gpio/gpio-virtio.c, the peer driver, out of
# tree as gpio-virtio-intree.ko for kernel VER (see scripts/fetch-kernel.sh).
#
# Usage: scripts/build-intree.sh VER OUTDIR
#
# The source is copied from $KSRC into $CACHE/build/VER/intree/ (never into
# the repository) and built against $KDIR; OUTDIR receives the module.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 2 ] || { echo "usage: $0 KERNEL OUTDIR" >&2; exit 2; }
VER=$1
OUTDIR=$2
load_kernel_env "$VER"
SRC=$KSRC/drivers/gpio/gpio-virtio.c
[ -f "$SRC" ] || die "in-tree driver source $SRC not found"

B=$CACHE/build/$VER/intree
rm -rf "$B"
mkdir -p "$B" "$OUTDIR"
cp "$SRC" "$B/gpio-virtio.c"
cat >"$B/Kbuild" <<'KBUILD'
obj-m += gpio-virtio-intree.o
gpio-virtio-intree-y := gpio-virtio.o
KBUILD
if ! make -C "$KDIR" M="$B" ${KMAKE[@]+"${KMAKE[@]}"} modules >"$B/build.log" 2>&1; then
	cat "$B/build.log" >&2
	die "building the in-tree driver for $VER failed"
fi
if grep -E 'warning:|error:' "$B/build.log" >&2; then
	log "warning: the in-tree driver built with warnings for $VER"
fi
cp "$B/gpio-virtio-intree.ko" "$OUTDIR/"
log "built $OUTDIR/gpio-virtio-intree.ko for $KRELEASE"
