#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of the driver, for every supported kernel:
#   - a W=1 build (extra warnings and kernel-doc) that must print no warning
#   - a sparse build (C=2) that must print no warning, and must have run
#     sparse on the driver (a kernel that finds the sparse too old checks
#     nothing and says so once): the machine's sparse, or where the
#     kernel's scripts/checker-valid.sh refuses it (7.2) one built from
#     Debian unstable's source (scripts/build-sparse.sh)
#   - checkpatch.pl --strict on every C and header file we own, with the
#     newest checkpatch available
# and for 7.2 the upstream form (scripts/upstream-patch.sh): the patch
# applies to the pristine linux-source-7.2 (git apply --check), builds in
# tree with CONFIG_GPIO_VIRTIO=m and no compat header, W=1 and C=2, with
# no warning (scripts/build-upstream.sh), and passes checkpatch.pl --strict
# run in that tree on the patch.
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
	if [[ " $* " == *" C=2 "* ]] && ! sparse_ran "$log"; then
		summary+=("FAIL $v $label: sparse did not run ($log)")
		fail=1
		exec 9>&-
		return
	fi
	summary+=("ok   $v $label")
	exec 9>&-
}

# sparse_ran LOG: the build in LOG had sparse check gpio-virtio.c
sparse_ran() {
	if grep -F 'sparse is not available or not up to date' "$1"; then
		return 1
	fi
	grep -qE '^ +CHECK +(.*/)?gpio-virtio\.c$' "$1"
}

# sparse_for VER: the sparse for kernel VER (see scripts/build-sparse.sh)
sparse_for() {
	local tree=${KSRCS[$1]:-}
	[ -n "$tree" ] || tree=${KDIRS[$1]}
	"$REPO/scripts/build-sparse.sh" "$tree" 2>>"$CACHE/build/sparse.log" | tail -n 1
}

# upstream_check: the patch against linux-source-7.2, its in-tree build
# (W=1, C=2) and checkpatch.pl --strict in that tree on the patch
upstream_check() {
	local u=$CACHE/upstream/7.2 log patch out
	log=$CACHE/build/7.2/upstream-check.log
	mkdir -p "$CACHE/build/7.2"
	if ! "$REPO/scripts/build-upstream.sh" 7.2 "$CACHE/build/7.2/upstream" >"$log" 2>&1; then
		cat "$log"
		summary+=("FAIL 7.2 upstream: the patch does not apply or build in tree ($log)")
		fail=1
		return
	fi
	patch=$(cat "$u/patch" 2>/dev/null || true)
	if grep -E 'warning:|error:' "$u/build.log"; then
		summary+=("FAIL 7.2 upstream in-tree W=1 C=2: $(grep -cE 'warning:|error:' "$u/build.log") warning(s) ($u/build.log)")
		fail=1
	elif ! grep -qE '^ +CHECK +.*/drivers/gpio/gpio-virtio\.c$' "$u/build.log" ||
		grep -F 'sparse is not available or not up to date' "$u/build.log"; then
		summary+=("FAIL 7.2 upstream in-tree W=1 C=2: sparse did not run ($u/build.log)")
		fail=1
	else
		summary+=("ok   7.2 upstream: $(basename "$patch") applies (git apply --check), builds in tree (drivers/gpio/gpio-virtio.ko, W=1, C=2)")
	fi
	out=$(cd "$u/tree" && GIT_CEILING_DIRECTORIES=$u ./scripts/checkpatch.pl --strict --terse --show-types "$patch" 2>&1)
	local rc=$?
	echo "$out" >"$u/checkpatch.log"
	if [ $rc != 0 ] || grep -qE ': (ERROR|WARNING|CHECK):' <<<"$out"; then
		echo "$out"
		summary+=("FAIL 7.2 upstream: checkpatch --strict in tree: $(grep -cE ': (ERROR|WARNING|CHECK):' <<<"$out") finding(s) ($u/checkpatch.log)")
		fail=1
	else
		summary+=("ok   7.2 upstream: checkpatch --strict in tree on the patch")
	fi
}

for v in "${targets[@]}"; do
	log "checking against ${KDIRS[$v]}"
	build_check "$v" w1 W=1
	if sp=$(sparse_for "$v") && [ -n "$sp" ]; then
		build_check "$v" sparse C=2 CHECK="$sp"
		[ "$sp" = sparse ] || summary+=("     $v sparse: $sp, $("$sp" --version 2>&1 | head -n 1)")
	else
		summary+=("FAIL $v sparse: no sparse that this kernel accepts ($CACHE/build/sparse.log)")
		fail=1
	fi
	[ "$v" = 7.2 ] && upstream_check
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
