#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Mutants the test suites must kill: the driver built with one deliberate
# defect at a time, booted with the suites that should notice it.
#
# Usage: scripts/mutants.sh [NAME...]   every mutant, or the named ones
#                                       (make mutants [MUTANTS="NAME..."])
#        scripts/mutants.sh --list      the mutants: name, kernel, suites
#        scripts/mutants.sh --ci [N]    the N (default 3) mutants of the day:
#                                       "NAME KERNEL" lines (tests/run.sh)
#        scripts/mutants.sh --prepared NAME...
#                                       test them on kernels tests/run.sh
#                                       prepared: MUTANT_INITRD is the
#                                       initramfs, RUNS the run directory
#
# A mutant is tests/mutants/NAME.patch: header lines, then a unified diff
# of gpio-virtio.c (see tests/mutants/README):
#   # about: the defect, in one line
#   # suites: SUITE... (in this order; the first that fails kills it)
#   # kernel: KERNEL (6.12 boots fastest)
# Outcomes: killed (a suite reported a failure: its first failed check is
# named), survived (every suite passed: a test is missing), stale (the
# patch no longer applies to gpio-virtio.c: port it), broken (the mutant
# does not build), unjudged (it failed only a suite that fails unmutated
# too). The exit status is 0 only when every mutant was killed.
#
# The mutant's module goes into a copy of the kernel's initramfs as a
# second cpio archive (the kernel unpacks both; the later file wins), so a
# mutant costs one module build and its boots.
#
# Environment:
#   MUTANT_BASELINE=1    first boot each suite the mutants use with the
#                        unmutated driver (a suite that fails then cannot
#                        judge a mutant); 0 skips it (tests/run.sh: the
#                        same run boots those suites unmutated)
#   MUTANT_ALL_SUITES=0  1: every suite of a mutant runs, also after a kill
#   JOBS=1               mutants tested at once
#   RUN_TAG=mutants      results in $CACHE/runs-$RUN_TAG/mutant-NAME/
#   TIMEOUT_SCALE=1      as for tests/run.sh
set -uo pipefail
# The whole script is one compound command, read before it runs: a long
# run is not disturbed by an edit of this file.
{
top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"
MDIR=$top/tests/mutants

# meta FILE KEY: a "# KEY: value" header line of a mutant
meta() { sed -n "/^---/q; s/^# $2: //p" "$1" | head -n 1; }

all_names() {
	local f
	for f in "$MDIR"/*.patch; do
		[ -f "$f" ] && basename "$f" .patch
	done | sort
}

case "${1:-}" in
--list)
	for m in $(all_names); do
		printf '%-30s %-6s %s\n' "$m" "$(meta "$MDIR/$m.patch" kernel)" \
			"$(meta "$MDIR/$m.patch" suites)"
	done
	exit 0
	;;
--ci)
	# The UTC day number picks N consecutive mutants of the sorted list,
	# the next N the day after: every mutant runs within a few days.
	mapfile -t names < <(all_names)
	count=${#names[@]} want=${2:-3}
	[ "$count" -gt 0 ] || exit 0
	[ "$want" -le "$count" ] || want=$count
	day=$(( $(date -u +%s) / 86400 ))
	for ((j = 0; j < want; j++)); do
		m=${names[$(( (day * want + j) % count ))]}
		echo "$m $(meta "$MDIR/$m.patch" kernel)"
	done
	exit 0
	;;
esac

PREPARED=0
if [ "${1:-}" = --prepared ]; then
	PREPARED=1
	shift
	[ -n "${MUTANT_INITRD:-}" ] && [ -f "$MUTANT_INITRD" ] ||
		die "--prepared needs MUTANT_INITRD, the prepared kernel's initramfs"
	[ -n "${RUNS:-}" ] || die "--prepared needs RUNS, the run directory"
fi
if [ $# -gt 0 ]; then
	names=("$@")
else
	mapfile -t names < <(all_names)
fi
[ ${#names[@]} -gt 0 ] || die "no mutants in $MDIR"
# (m, not n: lib-boot.sh counts its results in n)
for m in "${names[@]}"; do
	[ -f "$MDIR/$m.patch" ] || die "no mutant $m ($MDIR/$m.patch)"
	[ -n "$(meta "$MDIR/$m.patch" suites)" ] && [ -n "$(meta "$MDIR/$m.patch" kernel)" ] ||
		die "$m.patch has no '# suites:' or '# kernel:' line"
done

QEMU=${QEMU:-qemu-system-x86_64}
QEMU_ARM64=${QEMU_ARM64:-qemu-system-aarch64}
SIM=$top/tests/sim/vgpio-sim
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
[ $PREPARED = 1 ] || RUNS=$CACHE/runs-${RUN_TAG:-mutants}
DRIVERS=ours
mkdir -p "$RUNS"
. "$top/tests/lib-boot.sh"
# No coverage hand-back is expected from a mutant's boot.
COV_DIR=

# kernel_env K: the env of a fetched kernel K (for run_boot)
kernel_env() {
	unset KARCH KMAKEARGS
	# shellcheck disable=SC1090
	. "$CACHE/kernels/$1.env"
}

# base_initrd K: the initramfs the mutants' modules are added to
base_initrd() {
	if [ $PREPARED = 1 ]; then
		echo "$MUTANT_INITRD"
	else
		echo "$RUNS/base-$1.gz"
	fi
}

# prepare K: the kernel, the test modules and a base initramfs (standalone)
prepare() {
	local k=$1 d=$RUNS/base-$1 ko
	local -a mods=()
	fetch_kernel "$k" || return 1
	kernel_env "$k"
	rm -rf "$d" && mkdir -p "$d/testmods"
	if [ -x "$top/scripts/build-testmods.sh" ] &&
		! "$top/scripts/build-testmods.sh" "$k" "$d/testmods" > "$d/testmods.log" 2>&1; then
		tap notok "[$k] test modules build" "$(tail -n 5 "$d/testmods.log")"
		return 1
	fi
	for ko in "$d"/testmods/*.ko; do
		[ -f "$ko" ] && mods+=("$ko")
	done
	DKMS_KO= "$top/scripts/mkinitramfs.sh" "$CACHE/kernels/$k.env" "$RUNS/base-$k.gz" \
		${mods[@]+"${mods[@]}"} > "$d/initrd.log" 2>&1 ||
		{ tap notok "[$k] initramfs builds" "$(tail -n 5 "$d/initrd.log")"; return 1; }
}

# build_initrd NAME K PATCH: $RUNS/mutant-NAME/initrd.gz with the driver
# (PATCH applied, when not empty) as /modules/gpio-virtio.ko. Sets
# OUTCOME (stale or broken) and WHY when it cannot.
build_initrd() {
	local name=$1 k=$2 patch=$3 d=$RUNS/mutant-$1
	rm -rf "$d" && mkdir -p "$d/src" "$d/ovl/modules"
	cp "$top/gpio-virtio.c" "$top/Kbuild" "$top/Kconfig" "$d/src/"
	cp -r "$top/include" "$d/src/"
	if [ -n "$patch" ] &&
		! patch -d "$d/src" -p1 -F0 -s --no-backup-if-mismatch < "$patch" > "$d/patch.log" 2>&1; then
		OUTCOME=stale WHY="the patch does not apply to gpio-virtio.c: $(head -n 2 "$d/patch.log" | tr '\n' ' ')"
		return 1
	fi
	if ! GV_SRC=$d/src GV_BUILD=$d/build COVERAGE=0 \
		"$top/scripts/build-module.sh" "$k" "$d/mod" > "$d/build.log" 2>&1; then
		OUTCOME=broken WHY="it does not build: $(grep -m 2 -E 'error|Error' "$d/build.log" | tr '\n' ' ')"
		return 1
	fi
	cp "$d/mod/gpio-virtio.ko" "$d/ovl/modules/"
	(cd "$d/ovl" && find . | cpio -o -H newc --quiet | gzip -1) > "$d/ovl.gz"
	cat "$(base_initrd "$k")" "$d/ovl.gz" > "$d/initrd.gz"
	rm -rf "$d/build" "$d/ovl"
}

# boot_suite NAME K SUITE: boot SUITE with the mutant's initramfs; its TAP
# in $RUNS/mutant-NAME/SUITE.tap. FAILED: the first failed check, or empty.
boot_suite() {
	local name=$1 k=$2 s=$3 d=$RUNS/mutant-$1 stop=1
	# A baseline, and MUTANT_ALL_SUITES=1, run the whole suite.
	[[ "$name" == baseline-* ]] || [ "${MUTANT_ALL_SUITES:-0}" = 1 ] && stop=
	local try label
	for try in 1 2; do
		(
			kernel_env "$k"
			INITRD=$d/initrd.gz
			BOOT_SUFFIX=-mutant-$name BOOT_STOP_ON_FAIL=$stop run_boot "$k" ours "$s"
		) > "$d/$s.tap" 2>&1
		# A guest that never reached the suite (no GV line: a panic
		# while the kernel boots, on a loaded host) never loaded the
		# module: the machine's failure, not the mutant's. Once more.
		label=$(kernel_env "$k"; boot_label "$k")
		grep -aq '^GV' "$RUNS/$label-ours-$s-mutant-$name/console.log" 2>/dev/null && break
		[ $try = 2 ] || echo "# the guest did not reach the suite: booted again" >> "$d/retries"
	done
	FAILED=$(grep -E '^not ok ' "$d/$s.tap" | grep -v '# TODO' | head -n 1 |
		sed -E 's/^not ok [0-9]+ - //')
	if [ -z "$FAILED" ] && ! grep -q '^ok .*boot completed with every test passed' "$d/$s.tap"; then
		FAILED="(no result from the boot: see $d/$s.tap)"
	fi
}

# test_mutant NAME [baseline]: build, boot its suites, write the outcome to
# $RUNS/mutant-NAME/result: "OUTCOME|KERNEL|SUITE|SECONDS|CHECK"
test_mutant() {
	local name=$1 f=$MDIR/$1.patch k suites s t0=$SECONDS
	local outcome= by=- check= base
	if [ "${2:-}" = baseline ]; then
		k=${name#baseline-}
		k=${k%%+*}
		suites=${name#*+}
		suites=${suites//+/ }
		f=
	else
		k=$(meta "$f" kernel)
		suites=$(meta "$f" suites)
	fi
	OUTCOME= WHY=
	if ! build_initrd "$name" "$k" "$f"; then
		outcome=$OUTCOME check=$WHY
	else
		for s in $suites; do
			if [ ! -f "$top/tests/guest/$s.sh" ]; then
				outcome=broken check="no suite $s"
				break
			fi
			boot_suite "$name" "$k" "$s"
			if [ -n "$FAILED" ]; then
				base=$RUNS/baseline-$k-$s
				if [ -e "$base.fail" ]; then
					[ -z "$outcome" ] && outcome=unjudged by=$s check="$s fails unmutated too: $FAILED"
				elif [ -z "$outcome" ] || [ "$outcome" = unjudged ]; then
					outcome=killed by=$s check=$FAILED
				fi
				[ "${MUTANT_ALL_SUITES:-0}" = 1 ] || [ "$outcome" != killed ] || break
			fi
		done
		[ -n "$outcome" ] || outcome=survived check="passed: $suites"
	fi
	echo "$outcome|$k|$by|$((SECONDS - t0))|$check" > "$RUNS/mutant-$name/result"
}

# ---------------------------------------------------------------------------
make -s -C "$top/tests/sim" > "$RUNS/sim-build.log" 2>&1 ||
	die "the simulator does not build: $(tail -n 3 "$RUNS/sim-build.log")"
make -s -C "$top/tests/guest" > "$RUNS/guest-build.log" 2>&1 ||
	die "the guest programs do not build: $(tail -n 3 "$RUNS/guest-build.log")"

declare -A kset=() pairs=()
arm64=
for m in "${names[@]}"; do
	[[ "$(meta "$MDIR/$m.patch" kernel)" == *-arm64 ]] && arm64=1
done
if [ -n "$arm64" ]; then
	make -s -C "$top/tests/guest" CC=aarch64-linux-gnu-gcc BIN=bin-arm64 \
		> "$RUNS/guest-build-arm64.log" 2>&1 ||
		die "the guest programs do not build for arm64: $(tail -n 3 "$RUNS/guest-build-arm64.log")"
fi
for m in "${names[@]}"; do
	k=$(meta "$MDIR/$m.patch" kernel)
	kset[$k]=1
	for s in $(meta "$MDIR/$m.patch" suites); do pairs["$k+$s"]=1; done
done
if [ $PREPARED = 0 ]; then
	for k in "${!kset[@]}"; do
		note "preparing kernel $k"
		prepare "$k" || die "kernel $k cannot be prepared (see $RUNS/base-$k)"
	done
fi

JOBS=${JOBS:-1}
[ "$JOBS" -ge 1 ] 2>/dev/null || die "JOBS must be a number of at least 1 (got '$JOBS')"
# run_all WHAT...: test_mutant for each, JOBS at once
run_all() {
	local what
	for what in "$@"; do
		while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n; done
		# shellcheck disable=SC2086
		test_mutant $what &
	done
	wait
}

rm -f "$RUNS"/baseline-*.ok "$RUNS"/baseline-*.fail
if [ "${MUTANT_BASELINE:-1}" = 1 ] && [ $PREPARED = 0 ]; then
	note "baseline: the unmutated driver on ${!pairs[*]}"
	base=()
	for p in "${!pairs[@]}"; do base+=("baseline-$p baseline"); done
	run_all "${base[@]}"
	for p in "${!pairs[@]}"; do
		IFS='|' read -r outcome k by secs check < "$RUNS/mutant-baseline-$p/result"
		s=${p#*+}
		if [ "$outcome" = survived ]; then
			touch "$RUNS/baseline-$k-$s.ok"
			tap ok "baseline: the unmutated driver passes $s on $k (${secs}s)"
		else
			touch "$RUNS/baseline-$k-$s.fail"
			tap notok "baseline: the unmutated driver passes $s on $k" "$outcome: $check"
		fi
	done
fi

run_all "${names[@]}"

# The table, and one TAP result per mutant.
rows=()
for m in "${names[@]}"; do
	if [ -f "$RUNS/mutant-$m/result" ]; then
		IFS='|' read -r outcome k by secs check < "$RUNS/mutant-$m/result"
	else
		outcome=broken k=$(meta "$MDIR/$m.patch" kernel) by=- secs=0 check="no result"
	fi
	rows+=("$(printf '%-30s %-5s %-10s %-9s %5ss  %s' "$m" "$k" "$by" "$outcome" "$secs" "$check")")
	case $outcome in
	killed) tap ok "mutant $m: killed by $by on $k in ${secs}s ($check)" ;;
	survived) tap notok "mutant $m survived: $(meta "$MDIR/$m.patch" about)" "$check" ;;
	*) tap notok "mutant $m: $outcome" "$check" ;;
	esac
done
note ""
note "$(printf '%-30s %-5s %-10s %-9s %6s  %s' mutant kernel suite outcome time 'first failed check')"
for r in "${rows[@]}"; do note "$r"; done
note "results: $RUNS/mutant-*/"
[ $PREPARED = 1 ] || echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
exit
}
