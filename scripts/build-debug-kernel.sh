#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the 7.2 debug guest kernel (KASAN, lockdep, kmemleak, ...) from
# Debian unstable's linux-source-7.2 and write $CACHE/kernels/7.2.env.
#
# Usage: scripts/build-debug-kernel.sh [--resolve|--source]
#
# --resolve only prints the source package (name=version) a build would use
# now, and builds nothing.
# --source only downloads and unpacks that source (the pristine tree,
# $CACHE/src/7.2/linux-source-7.2, which nothing writes into: builds go to
# O= directories, scripts/upstream-patch.sh applies its patch to a copy) and
# prints the tree's path; it builds nothing.
#
# BUILD_NICE=N runs the compiler at nice N (tests/run.sh builds the kernel
# beside the other kernels' boots, on the CPU time they leave); the smoke
# boot runs at the caller's priority, so its time limit holds.
#
# The source package is fetched with apt-get download through a private apt
# state directory ($CACHE/apt-unstable): unstable is never added to the
# machine's sources. The configuration is tinyconfig merged with
# scripts/debug-kernel.fragment and scripts/debug-kernel-extra.config. The
# build is keyed by the source version and the fragments' sha256: a second
# run with the same key does not rebuild.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RESOLVE=0 SOURCE_ONLY=0
[ "${1:-}" = --resolve ] && RESOLVE=1
[ "${1:-}" = --source ] && SOURCE_ONLY=1
VER=7.2
SRCPKG=linux-source-$VER
FRAGMENT=$REPO/scripts/debug-kernel.fragment
EXTRA=$REPO/scripts/debug-kernel-extra.config
OUT=$CACHE/kernels/$VER
BUILD=$OUT/build
ENVF=$CACHE/kernels/$VER.env
[ -f "$FRAGMENT" ] || die "$FRAGMENT not found"
[ -f "$EXTRA" ] || die "$EXTRA not found"
mkdir -p "$OUT"
NICE=()
[ -z "${BUILD_NICE:-}" ] || NICE=(nice -n "$BUILD_NICE")
# A resolve does not wait for a build that holds the lock.
[ $RESOLVE = 1 ] || { exec 8>"$OUT/.lock"; flock 8; }

# Private apt state: only unstable, nothing of the machine's state.
APTD=$CACHE/apt-unstable
mkdir -p "$APTD/lists/partial" "$APTD/cache/archives/partial" "$APTD/debs" \
	"$APTD/preferences.d"
echo 'deb http://deb.debian.org/debian unstable main' >"$APTD/sources.list"
APTOPT=(-o "Dir::Etc::sourcelist=$APTD/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State::Lists=$APTD/lists" -o "Dir::Cache=$APTD/cache"
	-o Dir::State::status=/dev/null -o Dir::Etc::preferences=/dev/null
	-o "Dir::Etc::preferencesparts=$APTD/preferences.d" -o APT::Default-Release=
	-o Acquire::Languages=none -o APT::Sandbox::User=root)

# smoke_boot: boot the new image without an initramfs; it must get as far as
# looking for init (and panic there) with no debug report on the way.
smoke_boot() {
	local log=$OUT/smoke.log

	log "smoke boot (TCG, no initramfs, log: $log)"
	timeout 120 qemu-system-x86_64 -accel tcg -m 512 -nographic -no-reboot \
		-kernel "$BUILD/arch/x86/boot/bzImage" \
		-append "console=ttyS0 panic=-1" </dev/null >"$log" 2>&1 || true
	# The panic itself prints a Call Trace: look only at what came before.
	if sed '/Kernel panic - not syncing/,$d' "$log" |
		grep -E 'BUG:|WARNING:|INFO:|Oops|Call Trace|KASAN:|UBSAN:|suspected memory leak' >&2; then
		die "smoke boot shows a debug report (see $log)"
	fi
	grep -Eq 'No working init found|VFS: Unable to mount root' "$log" ||
		die "smoke boot did not reach the search for init (see $log)"
	log "smoke boot: clean, reached the search for init at" \
		"$(grep -E 'No working init|Unable to mount root' "$log" | grep -Eo '^\[ *[0-9.]+\]' | head -1)"
}

log "updating the private unstable package list"
if ! apt-get -q "${APTOPT[@]}" update >/dev/null; then
	ls "$APTD/lists/"*_Packages* >/dev/null 2>&1 ||
		die "apt-get update (unstable, private state) failed"
	log "warning: apt-get update failed, using the previous unstable package list"
fi
srcver=$(apt_candidate "$SRCPKG" "${APTOPT[@]}")
if [ -z "$srcver" ]; then
	others=$(apt-cache "${APTOPT[@]}" pkgnames linux-source-7. | sort -V | tr '\n' ' ')
	die "Debian unstable has no $SRCPKG${others:+ (it has: $others)}"
fi
if [ $RESOLVE = 1 ]; then
	echo "$SRCPKG=$srcver (Debian unstable, built with scripts/debug-kernel.fragment)"
	exit 0
fi
log "$SRCPKG $srcver"

# fetch_source: download and unpack $SRCPKG $srcver once; sets KSRC
fetch_source() {
	local deb
	# Source: the .deb holds /usr/src/linux-source-7.2.tar.xz.
	deb=$(ls "$APTD/debs/${SRCPKG}_${srcver//:/%3a}_all.deb" 2>/dev/null || true)
	if [ -z "$deb" ]; then
		rm -f "$APTD/debs/${SRCPKG}_"*.deb
		log "downloading $SRCPKG $srcver"
		(cd "$APTD/debs" && apt-get -q "${APTOPT[@]}" download "$SRCPKG=$srcver" >/dev/null) ||
			die "apt-get download $SRCPKG failed"
		deb=$(ls "$APTD/debs/${SRCPKG}_"*.deb)
	fi
	KSRC=$CACHE/src/$VER/$SRCPKG
	if [ "$(cat "$CACHE/src/$VER/.version" 2>/dev/null)" != "$srcver" ] || [ ! -d "$KSRC" ]; then
		rm -rf "$APTD/unpack"
		dpkg -x "$deb" "$APTD/unpack"
		KSRC=$(extract_source "$APTD/unpack/usr/src/$SRCPKG.tar.xz" "$CACHE/src/$VER" "$srcver")
		rm -rf "$APTD/unpack"
	fi
}

if [ $SOURCE_ONLY = 1 ]; then
	fetch_source
	echo "$KSRC"
	exit 0
fi

KEY="$SRCPKG $srcver $(cat "$FRAGMENT" "$EXTRA" | sha256sum | cut -d' ' -f1)"
KRELEASE=$(cat "$BUILD/include/config/kernel.release" 2>/dev/null || true)
if [ "$(cat "$OUT/key" 2>/dev/null)" = "$KEY" ] && [ -n "$KRELEASE" ] &&
	[ -f "$BUILD/arch/x86/boot/bzImage" ] && [ -d "$OUT/root/lib/modules/$KRELEASE" ] &&
	[ -f "$BUILD/Module.symvers" ]; then
	echo "debug kernel: cached"
else
	fetch_source

	start=$SECONDS
	# The build directory is kept: a changed key reconfigures it and make
	# rebuilds what the new configuration or source needs.
	rm -rf "$OUT/key" "$OUT/root"
	mkdir -p "$BUILD"
	"${NICE[@]}" make -s -C "$KSRC" O="$BUILD" ARCH=x86_64 tinyconfig >/dev/null
	(cd "$KSRC" && scripts/kconfig/merge_config.sh -m -O "$BUILD" \
		"$BUILD/.config" "$FRAGMENT" "$EXTRA" >"$BUILD/merge_config.log")
	"${NICE[@]}" make -s -C "$KSRC" O="$BUILD" ARCH=x86_64 olddefconfig >/dev/null

	# Every option asked for must have survived olddefconfig.
	missing=
	while read -r line; do
		case $line in
		CONFIG_*=*)
			opt=${line%%=*}
			want=$line
			;;
		"# CONFIG_"*" is not set")
			opt=${line#\# }
			opt=${opt%% *}
			want=
			;;
		*)
			continue
			;;
		esac
		got=$(grep -E "^$opt=" "$BUILD/.config" || true)
		if [ "$got" != "$want" ]; then
			echo "debug kernel: $opt: asked for '${want:-not set}', got '${got:-not set}'" >&2
			missing="$missing ${opt#CONFIG_}"
		fi
	done < <(cat "$FRAGMENT" "$EXTRA")
	for opt in KASAN PROVE_LOCKING DEBUG_KMEMLEAK GPIOLIB_IRQCHIP GPIO_CDEV GPIO_VIRTIO; do
		case " $missing " in
		*" $opt "*) die "required option CONFIG_$opt is not set as asked" ;;
		esac
	done

	log "building bzImage and modules in $BUILD (log: $OUT/build.log)"
	if ! "${NICE[@]}" make -C "$KSRC" O="$BUILD" ARCH=x86_64 -j"$(nproc)" bzImage modules \
		>"$OUT/build.log" 2>&1; then
		tail -30 "$OUT/build.log" >&2
		die "kernel build failed (see $OUT/build.log)"
	fi
	"${NICE[@]}" make -s -C "$KSRC" O="$BUILD" ARCH=x86_64 INSTALL_MOD_PATH="$OUT/root" \
		modules_install >>"$OUT/build.log" 2>&1 || die "modules_install failed"
	KRELEASE=$(cat "$BUILD/include/config/kernel.release")
	log "debug kernel $KRELEASE built in $((SECONDS - start)) s"
	smoke_boot
	echo "$KEY" >"$OUT/key"
fi

KSRC=$CACHE/src/$VER/$SRCPKG
[ -d "$KSRC" ] || die "$KSRC missing"
write_env "$ENVF" KVER="$VER" KRELEASE="$KRELEASE" KIMAGE="$BUILD/arch/x86/boot/bzImage" \
	KMODROOT="$OUT/root/lib/modules/$KRELEASE" KDIR="$BUILD" KSRC="$KSRC" KDEBUG=1 \
	KPKGS="$SRCPKG=$srcver"
log "kernel $VER: ready ($ENVF)"
