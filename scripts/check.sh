#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of the driver, for every supported kernel:
#   - a W=1 build (extra warnings and kernel-doc) that must print no warning
#   - a sparse build (C=2) that must print no warning
#   - checkpatch.pl --strict on every C and header file we own, with the
#     newest checkpatch available
#
# Usage: scripts/check.sh [VER...]
#   VER: 6.1, 6.12, 7.2, 6.12-arm64, 6.1-arm64 (a $CACHE/kernels/VER.env
#   must exist; arm64 is cross-built, sparse included). Default:
#   every kernel with an env file, else the /usr/src/linux-headers-* trees.
# Exits non-zero on any finding; ends with a summary.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

declare -A KDIRS=() KSRCS=() KMAKES=()
targets=()

if [ $# -gt 0 ]; then
	for v in "$@"; do
		f=$CACHE/kernels/$v.env
		[ -f "$f" ] || die "$f missing: run scripts/fetch-kernel.sh $v first"
		targets+=("$v")
	done
else
	for f in "$CACHE"/kernels/*.env; do
		[ -f "$f" ] || continue
		v=$(basename "$f" .env)
		targets+=("$v")
	done
fi

for v in "${targets[@]}"; do
	# shellcheck disable=SC1090
	KDIRS[$v]=$(. "$CACHE/kernels/$v.env" && echo "$KDIR")
	# shellcheck disable=SC1090
	KSRCS[$v]=$(. "$CACHE/kernels/$v.env" && echo "${KSRC:-}")
	# shellcheck disable=SC1090
	KMAKES[$v]=$(. "$CACHE/kernels/$v.env" && echo "${KMAKEARGS:-}")
done

if [ ${#targets[@]} = 0 ]; then
	for d in /usr/src/linux-headers-*; do
		[ -f "$d/Makefile" ] && [ -f "$d/.config" ] || continue
		v=${d#/usr/src/linux-headers-}
		targets+=("$v")
		KDIRS[$v]=$d
	done
fi
[ ${#targets[@]} -gt 0 ] || die "no kernel to check against"

# The newest checkpatch: from the newest kernel source tree with an env
# file (whether or not it is checked against), else one extracted
# from Debian's newest linux-source package.
checkpatch=
best=
for f in "$CACHE"/kernels/*.env; do
	[ -f "$f" ] || continue
	v=$(basename "$f" .env)
	# shellcheck disable=SC1090
	s=$(. "$f" && echo "${KSRC:-}")
	[ -n "$s" ] && [ -f "$s/scripts/checkpatch.pl" ] || continue
	if [ -z "$best" ] || [ "$(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n 1)" = "$v" ]; then
		best=$v
		checkpatch=$s/scripts/checkpatch.pl
	fi
done
if [ -z "$checkpatch" ]; then
	tarball=$(ls /usr/src/linux-source-*.tar.* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$tarball" ] || die "no checkpatch.pl: install a linux-source package"
	name=$(basename "$tarball")
	name=${name%.tar.*}
	cp_dir=$CACHE/checkpatch/$name
	if [ ! -f "$cp_dir/$name/scripts/checkpatch.pl" ]; then
		mkdir -p "$cp_dir"
		tar -xf "$tarball" -C "$cp_dir" "$name/scripts/checkpatch.pl" \
			"$name/scripts/spelling.txt" "$name/scripts/const_structs.checkpatch" \
			>/dev/null 2>&1 || die "cannot extract checkpatch from $tarball"
	fi
	checkpatch=$cp_dir/$name/scripts/checkpatch.pl
fi

fail=0
summary=()

# build_check VER LABEL MAKE-ARGS...: build in a private copy, fail on warnings
build_check() {
	local v=$1 label=$2 b log
	shift 2
	b=$CACHE/build/$v/check-$label
	mkdir -p "$CACHE/build/$v"
	exec 9>"$b.lock"
	flock 9
	rm -rf "$b"
	mkdir -p "$b"
	cp "$REPO/gpio-virtio.c" "$REPO/Kbuild" "$REPO/Kconfig" "$b/"
	cp -r "$REPO/include" "$b/"
	log=$b/build.log
	local -a cross=()
	read -r -a cross <<<"${KMAKES[$v]:-}"
	if ! make -C "${KDIRS[$v]}" M="$b" ${cross[@]+"${cross[@]}"} "$@" modules >"$log" 2>&1; then
		cat "$log"
		summary+=("FAIL $v $label: build failed ($log)")
		fail=1
		exec 9>&-
		return
	fi
	if grep -E 'warning:|error:' "$log"; then
		summary+=("FAIL $v $label: $(grep -cE 'warning:|error:' "$log") warning(s) ($log)")
		fail=1
		exec 9>&-
		return
	fi
	summary+=("ok   $v $label")
	exec 9>&-
}

for v in "${targets[@]}"; do
	log "checking against ${KDIRS[$v]}"
	build_check "$v" w1 W=1
	build_check "$v" sparse C=2
done

files=("$REPO/gpio-virtio.c")
for f in "$REPO"/include/*.h; do [ -f "$f" ] && files+=("$f"); done
if [ -d "$REPO/tests/modules" ]; then
	while IFS= read -r f; do files+=("$f"); done \
		< <(find "$REPO/tests/modules" -name '*.c' -o -name '*.h' | sort)
fi
cp_out=$("$checkpatch" --strict --no-tree --terse --show-types -f "${files[@]}" 2>&1)
cp_rc=$?
if [ $cp_rc != 0 ] || grep -qE ': (ERROR|WARNING|CHECK):' <<<"$cp_out"; then
	echo "$cp_out" | grep -vE '^total: 0 errors, 0 warnings, 0 checks'
	summary+=("FAIL checkpatch --strict ($checkpatch): $(grep -cE ': (ERROR|WARNING|CHECK):' <<<"$cp_out") finding(s)")
	fail=1
else
	summary+=("ok   checkpatch --strict on ${#files[@]} file(s) ($checkpatch)")
fi

echo "== check summary"
printf '%s\n' "${summary[@]}"
[ $fail = 0 ] && echo "== clean" || echo "== FINDINGS"
exit $fail
