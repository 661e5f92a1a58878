#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the upstream form of the driver in tree: the patch of
# scripts/upstream-patch.sh applied to a copy of the 7.2 source, our file as
# drivers/gpio/gpio-virtio.c with CONFIG_GPIO_VIRTIO=m, no compat header,
# built with W=1 and C=2 (sparse: scripts/build-sparse.sh) against the
# configured 7.2 debug kernel build.
#
# Usage: scripts/build-upstream.sh VER OUTDIR
#   VER: 7.2, the kernel the patch is made against (its env file must exist:
#   scripts/fetch-kernel.sh 7.2)
#
# OUTDIR receives the module as gpio-virtio-upstream.ko (its module name is
# gpio_virtio, and it is marked intree). Under $CACHE/upstream/7.2/:
#   tree/       the source: a hard-linked copy (cp -al) of the pristine
#               $KSRC, with the files the patch changes replaced by real
#               copies before they differ (nothing in $KSRC is written)
#   build/      the object directory: a real copy (cp -a, never hard links:
#               the compiler rewrites files in place) of the debug kernel's
#               configured build $KDIR, taken again when that changes. Its
#               first build from tree/ rebuilds the host tools and
#               generated headers that name the source directory (about a
#               minute on 2 cores); later ones compile only our file.
#   build.log   the build's output, W=1 and sparse included (make check
#               fails on any warning in it)
#   checkpatch.log  (written by scripts/check.sh)
# The module and its log are reused while the patch, the kernel build and
# the sparse program are the same. The debug kernel's own image is what
# boots with the module: our file is a module and the Kconfig change is
# help text only, so the kernel built from tree/ is the same kernel.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

[ $# = 2 ] || { echo "usage: $0 7.2 OUTDIR" >&2; exit 2; }
VER=$1
OUTDIR=$2
[ "$VER" = 7.2 ] || die "the upstream patch is made against 7.2 only (got $VER)"
load_kernel_env "$VER"
[ -d "$KSRC" ] || die "KSRC $KSRC missing"

U=$CACHE/upstream/$VER
mkdir -p "$U" "$OUTDIR"
exec 9>"$U.lock"
flock 9

patch=$("$REPO/scripts/upstream-patch.sh" -q | tail -n 1)
echo "$patch" >"$U/patch"
sparse=$("$REPO/scripts/build-sparse.sh" "$KSRC" | tail -n 1)

# The source tree, once per $KSRC.
tkey="$KSRC $(cat "$(dirname "$KSRC")/.version" 2>/dev/null)"
if [ "$(cat "$U/tree.key" 2>/dev/null)" != "$tkey" ] || [ ! -d "$U/tree" ]; then
	log "linking a copy of $KSRC into $U/tree"
	rm -rf "$U/tree" "$U/tree.tmp" "$U/tree.key"
	cp -al "$KSRC" "$U/tree.tmp"
	mv "$U/tree.tmp" "$U/tree"
	echo "$tkey" >"$U/tree.key"
fi
# The patched files, made from the pristine ones; each goes into the tree
# as a new file (rm, then cp), never through a link shared with $KSRC.
rm -rf "$U/files" && mkdir -p "$U/files"
files=$(GIT_CEILING_DIRECTORIES=$U git -C "$U/files" apply --numstat "$patch" | cut -f3)
for f in $files; do
	mkdir -p "$U/files/$(dirname "$f")"
	cp "$KSRC/$f" "$U/files/$f"
done
GIT_CEILING_DIRECTORIES=$U git -C "$U/files" apply "$patch" ||
	die "$patch does not apply to the files of $KSRC"
for f in $files; do
	if ! cmp -s "$U/files/$f" "$U/tree/$f"; then
		rm -f "$U/tree/$f"
		cp "$U/files/$f" "$U/tree/$f"
	fi
done

# The object directory, a copy of the configured debug build. A build of
# it that holds its lock (build-debug-kernel.sh) is waited for.
bkey="$KDIR $(cat "$KDIR/include/config/kernel.release") $(cat "$KDIR/.config" "$KDIR/Module.symvers" | sha256sum | cut -d' ' -f1)"
B=$U/build
if [ "$(cat "$U/build.key" 2>/dev/null)" != "$bkey" ] || [ ! -d "$B" ]; then
	log "copying the configured build $KDIR to $B"
	rm -rf "$B" "$B.tmp" "$U/build.key" "$U/done.key"
	if [ -f "$(dirname "$KDIR")/.lock" ]; then
		(flock -s 7 && cp -a "$KDIR" "$B.tmp") 7<"$(dirname "$KDIR")/.lock"
	else
		cp -a "$KDIR" "$B.tmp"
	fi
	mv "$B.tmp" "$B"
	echo "$bkey" >"$U/build.key"
fi

dkey="$(sha256sum <"$patch" | cut -d' ' -f1) $bkey $sparse"
if [ "$(cat "$U/done.key" 2>/dev/null)" = "$dkey" ] && [ -f "$B/drivers/gpio/gpio-virtio.ko" ] &&
	[ -f "$U/build.log" ]; then
	log "in-tree build of this patch: cached ($U/build.log)"
else
	rm -f "$U/done.key" "$B/drivers/gpio/gpio-virtio.o" "$B/drivers/gpio/gpio-virtio.ko"
	grep -qx 'CONFIG_GPIO_VIRTIO=m' "$B/.config" ||
		die "$KDIR is not configured with CONFIG_GPIO_VIRTIO=m"
	start=$SECONDS
	# The object is compiled again every time, so that W=1 has its say.
	if ! make -j"$(nproc)" -C "$U/tree" O="$B" ARCH="${KARCH:-x86_64}" ${KMAKE[@]+"${KMAKE[@]}"} \
		W=1 C=2 CHECK="$sparse" drivers/gpio/gpio-virtio.ko >"$U/build.log" 2>&1; then
		cat "$U/build.log" >&2
		die "the in-tree build of $patch failed ($U/build.log)"
	fi
	echo "$dkey" >"$U/done.key"
	log "built in tree in $((SECONDS - start)) s ($U/build.log)"
fi
grep -qx 'CONFIG_GPIO_VIRTIO=m' "$B/include/config/auto.conf" ||
	die "the in-tree build did not keep CONFIG_GPIO_VIRTIO=m"
ko=$B/drivers/gpio/gpio-virtio.ko
# What an in-tree build is: modpost marks it intree (loading it taints
# nothing), for this kernel.
[ "$(modinfo -F intree "$ko")" = Y ] || die "$ko is not marked intree"
case "$(modinfo -F vermagic "$ko")" in
"$KRELEASE "*) ;;
*) die "$ko is not built for $KRELEASE (vermagic $(modinfo -F vermagic "$ko"))" ;;
esac
cp "$ko" "$OUTDIR/gpio-virtio-upstream.ko"
log "built $OUTDIR/gpio-virtio-upstream.ko for $KRELEASE from $(basename "$patch")"
