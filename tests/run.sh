#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite: the simulator's unit tests, then for every selected kernel
# and driver one QEMU boot per guest suite (tests/guest/*.sh). Prints TAP and
# ends with "N passed, N failed, N skipped" (a check reported "# SKIP" did
# not run and never counts as passed).
#
# Environment (all optional):
#   KERNELS="6.1 6.12 6.12-arm64 7.2"   kernels to boot: 6.1, 6.12 and 7.2
#                             are x86_64 guests (q35, virtio-PCI); 6.12-arm64
#                             and 6.1-arm64 are Debian's arm64 kernels, booted
#                             with qemu-system-aarch64 -M virt on virtio-MMIO;
#                             6.12 is the machine's own Debian release's,
#                             6.12-deb12 / 6.12-deb13 name a release
#                             (scripts/fetch-kernel.sh)
#   EXTRA_KERNELS             the other Debian release's kernels the default
#                             KERNELS adds (default: those this machine can
#                             build for, scripts/fetch-kernel.sh --extra)
#   EXTRA_SUITES="basic"      the suites our driver runs on them ("all":
#                             every suite)
#   ARM64_PCI_SUITES="basic"  the suites that on an arm64 kernel also boot
#                             with vhost-user-gpio-pci (reported as K-pci)
#   ARM64_PEER_SUITES="dt"    with DRIVER=all,
#                             the suites the in-tree peer runs on an arm64
#                             kernel (CI time; DRIVER=intree runs them all)
#   DRIVER=all|ours|intree|upstream  drivers to test (default all);
#                             upstream is our driver built in tree from
#                             the patch of scripts/upstream-patch.sh
#                             (scripts/build-upstream.sh)
#   SUITES="basic edges"      guest suites to run (default: every suite)
#   PEER_KERNELS="6.12 6.12-arm64"   with DRIVER=all, the kernels the in-tree
#                             peer runs on
#   UPSTREAM_KERNELS="7.2"    the kernels the upstream form runs on (it is
#                             built against 7.2 only; the default of KERNELS
#                             with DRIVER=upstream)
#   UPSTREAM_SUITES="basic"   the suites the upstream form runs
#   DEBUG_SUITES="basic batch edges ..."   the suites our driver runs on
#                             the 7.2 debug kernel (every boot there takes
#                             minutes under TCG; "all" runs every suite)
#   ARM64_SUITES="basic dt dt-names ..."   the suites our driver runs on
#                             an arm64 kernel ("all" runs every suite)
#   An explicit SUITES runs on every kernel regardless of these lists.
#   VHOST_RECONNECT=1         suites with "# restart: yes" also reconnect
#                             the device's vhost-user chardev to the
#                             restarted simulator (QEMU 10 aborts there;
#                             see tests/lib-boot.sh)
#   TIMEOUT_SCALE=1           multiply every boot's time limit
#   JOBS=$(nproc)             guests booted at once
#   PACKAGING=1               0 skips the packaging tests (they use the
#                             machine's DKMS tree: one run at a time)
#   MUTANTS_CI=3              the mutants of the day (scripts/mutants.sh
#                             --ci: chosen by the UTC date, every one within
#                             a few days), built and booted with their own
#                             suites at the end of the run; 0: none (the
#                             default with an explicit SUITES)
#   BENCH_KERNELS="6.12"      the kernels that run make bench's smoke (suite
#                             "bench": scripts/bench.sh SMOKE=1, one short
#                             boot; its JSON checked by bench-report.py
#                             --check; no speed asserted)
#   COVERAGE=1                on a kernel with gcov (the 7.2 debug kernel)
#                             our module is built with gcov profiling, each
#                             boot hands its data back and the run ends with
#                             the coverage of gpio-virtio.c (scripts/
#                             coverage.sh; COV_MIN_LINES, COV_MIN_BRANCHES
#                             make figures below them fail); 0: off
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

UPSTREAM_KERNELS=${UPSTREAM_KERNELS:-7.2}
UPSTREAM_SUITES=${UPSTREAM_SUITES:-basic}
export UPSTREAM_KERNELS
[ "${DRIVER:-}" = upstream ] && KERNELS=${KERNELS:-$UPSTREAM_KERNELS}
# The other Debian release's kernels that this machine can build modules
# for (fetch-kernel.sh --extra; its notes, why others are left out, go to
# versions.txt), each with a short suite list.
EXTRA_NOTES=
if [ -z "${KERNELS:-}" ] && [ -z "${EXTRA_KERNELS+set}" ]; then
	# The kernels on stdout (possibly none), why others are left out on stderr.
	_en=$(mktemp)
	if EXTRA_KERNELS=$("$top/scripts/fetch-kernel.sh" --extra 2>"$_en"); then
		EXTRA_NOTES=$(cat "$_en")
	else
		EXTRA_KERNELS=
		EXTRA_NOTES="fetch-kernel.sh --extra failed: $(cat "$_en")"
	fi
	rm -f "$_en"
fi
EXTRA_KERNELS=${EXTRA_KERNELS:-}
EXTRA_SUITES=${EXTRA_SUITES:-basic}
# 7.2 last: its debug kernel is built beside the other kernels' boots.
KERNELS=${KERNELS:-6.1 6.12 6.12-arm64 ${EXTRA_KERNELS:+$EXTRA_KERNELS }7.2}
ARM64_PCI_SUITES=${ARM64_PCI_SUITES-basic}
ARM64_PEER_SUITES=${ARM64_PEER_SUITES-dt}
DRIVER=${DRIVER:-all}
SUITES=${SUITES:-}
PEER_KERNELS=${PEER_KERNELS:-6.12 6.12-arm64}
# The debug kernel and arm64 cost the most per boot: there, CI runs the
# suites that reach the driver's own code paths (requests and batches,
# events, teardown and state, timeouts, broken and hostile devices) or the
# platform's (virtio-MMIO, the device tree); the rest run on 6.1 and 6.12.
DEBUG_SUITES=${DEBUG_SUITES:-basic batch edges irq-masked lifecycle state timeout hostile faults fuzz stress restart promises paths}
ARM64_SUITES=${ARM64_SUITES:-basic dt dt-names irq-masked lifecycle state poll}
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
QEMU=${QEMU:-qemu-system-x86_64}
QEMU_ARM64=${QEMU_ARM64:-qemu-system-aarch64}
RUNS=$CACHE/runs${RUN_TAG:+-$RUN_TAG}
SIM=$top/tests/sim/vgpio-sim

case "$DRIVER" in
all) DRIVERS="ours intree upstream" ;;
ours|intree|upstream) DRIVERS=$DRIVER ;;
*) die "DRIVER must be ours, intree, upstream or all (got '$DRIVER')" ;;
esac

. "$top/tests/lib-boot.sh"

# kernel_arch K: the guest architecture of kernel K (by its name)
kernel_arch() {
	case "$1" in
	*-arm64) echo arm64 ;;
	*) echo x86_64 ;;
	esac
}
arm64=
for k in $KERNELS; do [ "$(kernel_arch "$k")" = arm64 ] && arm64=1; done

# ---------------------------------------------------------------------------
echo "TAP version 13"
note "kernels: $KERNELS; drivers: $DRIVERS; $(${QEMU} --version | head -n 1)"

mkdir -p "$CACHE" "$RUNS" || die "cannot create $CACHE"
# What this run is made of, so a failure can be tied to an upload: the
# packages each kernel comes from now (the prepared kernels' own record is
# added to the same file when they are ready).
{
	echo "date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
	echo "host: $(uname -sr), $(nproc) CPUs, $(. /etc/os-release && echo "$PRETTY_NAME")"
	echo "qemu: $(${QEMU} --version | head -n 1)"
	[ -z "$arm64" ] || echo "qemu (arm64): $(${QEMU_ARM64} --version | head -n 1)"
	echo "compiler: $(gcc --version | head -n 1)"
	for k in $KERNELS; do
		echo "kernel $k: $("$top/scripts/fetch-kernel.sh" --resolve "$k" 2>&1 | tail -n 1)"
	done
	[ -z "$EXTRA_KERNELS$EXTRA_NOTES" ] ||
		echo "other release's kernels: ${EXTRA_KERNELS:-none} (suites: $EXTRA_SUITES)"
	[ -z "$EXTRA_NOTES" ] || echo "$EXTRA_NOTES"
	for a in amd64 ${arm64:+arm64}; do
		"$top/scripts/mkinitramfs.sh" --resolve "$a" 2>&1
	done
	[ -z "$arm64" ] || echo "cross compiler: $(aarch64-linux-gnu-gcc --version | head -n 1)"
} > "$RUNS/versions.txt" 2>&1
while IFS= read -r line; do note "$line"; done < "$RUNS/versions.txt"
# The 7.2 debug kernel's build is the longest preparation (about 15 minutes
# on 2 cores): it starts now, its compiler at nice 19, beside the packaging
# tests and the other kernels' boots, on the CPU time they leave. The 7.2
# prep job waits for it (fetch-kernel.sh holds the kernel's lock), then
# finds it cached, or builds again and reports why it failed.
early_pid=
if [[ " $KERNELS " == *" 7.2 "* ]]; then
	BUILD_NICE=19 "$top/scripts/fetch-kernel.sh" 7.2 > "$CACHE/fetch-7.2-early.log" 2>&1 &
	early_pid=$!
fi
if make -s -C "$top/tests/sim" > "$CACHE/sim-build.log" 2>&1; then
	tap ok "simulator builds"
else
	tap notok "simulator builds" "$(tail -n 5 "$CACHE/sim-build.log")"
fi
# relay PREFIX < TAP: the results of another TAP stream, renumbered here with
# PREFIX before each description; its comments pass, its plan and summary not.
relay() {
	local line
	while IFS= read -r line; do
		if [[ "$line" =~ ^ok\ [0-9]+\ (-\ )?(.*)$ ]]; then
			tap ok "$1${BASH_REMATCH[2]}"
		elif [[ "$line" =~ ^not\ ok\ [0-9]+\ (-\ )?(.*)$ ]]; then
			tap notok "$1${BASH_REMATCH[2]}"
		elif [[ "$line" == "#"* ]]; then
			echo "$line"
		fi
	done
}

make -s -C "$top/tests/sim" check > "$CACHE/sim-unit.log" 2>&1
unit_rc=$?
relay "sim unit: " < "$CACHE/sim-unit.log"
[ $unit_rc = 0 ] || tap notok "sim unit: the tests ran to the end" "$(tail -n 5 "$CACHE/sim-unit.log")"
# The simulator against a small vhost-user front end (no QEMU): its command
# line, the vhost-user messages and malformed input from the front end.
make -s -C "$top/tests/sim" check-proto > "$CACHE/sim-proto.log" 2>&1
proto_rc=$?
relay "sim protocol: " < "$CACHE/sim-proto.log"
[ $proto_rc = 0 ] || tap notok "sim protocol: the checks ran to the end" "$(tail -n 5 "$CACHE/sim-proto.log")"

if [ -n "$SUITES" ]; then
	suites=$SUITES
else
	suites=$(cd "$top/tests/guest" && ls ./*.sh | sed 's|^\./||; s|\.sh$||' | grep -v '^lib$' | tr '\n' ' ')
fi

# Packaging: DKMS against the Debian headers and the .deb (before the boots,
# which load the DKMS-built module).
if [[ " $DRIVERS " == *" ours "* ]] && [ -x "$top/tests/packaging.sh" ] &&
	[ "${PACKAGING:-1}" != 0 ]; then
	"$top/tests/packaging.sh" > "$CACHE/packaging.log" 2>&1
	pkg_rc=$? pkg_notok=0
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) tap ok "packaging: ${line#ok - }" ;;
		"not ok - "*) tap notok "packaging: ${line#not ok - }"; pkg_notok=$((pkg_notok + 1)) ;;
		*) echo "#   $line" ;;
		esac
	done < "$CACHE/packaging.log"
	# It exits non-zero when a check failed; a script that stopped half
	# way printed no "not ok" for what it did not run: the exit status
	# says so.
	[ "$pkg_rc" = 0 ] || [ "$pkg_notok" -gt 0 ] ||
		tap notok "packaging: the tests ran to the end (exit status $pkg_rc)" \
			"$(tail -n 5 "$CACHE/packaging.log" | tr "\n" ";")"
fi

make -s -C "$top/tests/guest" > "$CACHE/guest-build.log" 2>&1 ||
	tap notok "guest programs build" "$(tail -n 5 "$CACHE/guest-build.log")"
if [ -n "$arm64" ]; then
	make -s -C "$top/tests/guest" CC=aarch64-linux-gnu-gcc BIN=bin-arm64 \
		> "$CACHE/guest-build-arm64.log" 2>&1 ||
		tap notok "guest programs build for arm64" "$(tail -n 5 "$CACHE/guest-build-arm64.log")"
fi

# ---------------------------------------------------------------------------
# The kernels' work as a queue of jobs run by $JOBS workers at once (each
# guest is one QEMU process; two run side by side on two cores). Every job
# writes its TAP to its own file; the results are printed here in the
# queue's order as they complete, so the output does not depend on timing.
#   prep K        fetch kernel K, build the modules and the initramfs
#   check K       make check for K (after K is fetched)
#   boot K D S [pci]  one guest boot: suite S with driver D on kernel K
#                 (pci: an arm64 kernel with the PCI transport)
#   selftest K D  the harness itself: a simulator killed mid-run fails the
#                 boot quickly and says why (once, on the first kernel)
JQ=$RUNS/jobs
rm -rf "$JQ" && mkdir -p "$JQ"
njobs=0
addjob() { echo "$*" > "$JQ/$njobs.job"; njobs=$((njobs + 1)); }
selftest_added=
for k in $KERNELS; do
	addjob prep "$k"
	[[ " $DRIVERS " == *" ours "* || " $DRIVERS " == *" upstream "* ]] &&
		[ -x "$top/scripts/check.sh" ] && ! [[ " $EXTRA_KERNELS " == *" $k "* ]] &&
		addjob check "$k"
	for drv in $DRIVERS; do
		# The upstream form: our driver built in the 7.2 tree, booted
		# once with the basic suite (it is our driver: ours's suites).
		if [ "$drv" = upstream ] && ! [[ " $UPSTREAM_KERNELS " == *" $k "* ]]; then
			[ "$DRIVER" = upstream ] &&
				addjob note "[$k/upstream] the upstream form runs on $UPSTREAM_KERNELS only"
			continue
		fi
		# The peer is proven on Debian's kernels; the 7.2 debug kernel is
		# our driver's reliability gate (DRIVER=intree runs it anywhere).
		if [ "$DRIVER" = all ] && [ "$drv" = intree ] &&
			! [[ " $PEER_KERNELS " == *" $k "* ]]; then
			addjob note "[$k/intree] peer suites run on $PEER_KERNELS only (DRIVER=intree runs them here)"
			continue
		fi
		if [ "$DRIVER" = all ] && [ "$drv" = intree ] && [ "$(kernel_arch "$k")" = arm64 ]; then
			addjob note "[$k/intree] the peer runs $ARM64_PEER_SUITES here (DRIVER=intree runs every suite)"
		fi
		if [ -z "$SUITES" ] && [ "$drv" = ours ]; then
			[ "$k" = 7.2 ] && [ "$DEBUG_SUITES" != all ] &&
				addjob note "[$k/ours] the debug kernel runs $DEBUG_SUITES (DEBUG_SUITES=all runs every suite)"
			[ "$(kernel_arch "$k")" = arm64 ] && [ "$ARM64_SUITES" != all ] &&
				addjob note "[$k/ours] arm64 runs $ARM64_SUITES (ARM64_SUITES=all runs every suite)"
			[[ " $EXTRA_KERNELS " == *" $k "* ]] && [ "$EXTRA_SUITES" != all ] &&
				addjob note "[$k/ours] the other release's kernel runs $EXTRA_SUITES (EXTRA_SUITES=all runs every suite)"
		fi
		for s in $suites; do
			f=$top/tests/guest/$s.sh
			[ -f "$f" ] || { addjob missing "$k" "$drv" "$s"; continue; }
			if [ "$drv" = upstream ]; then
				[[ " $UPSTREAM_SUITES " == *" $s "* ]] || continue
				suite_meta "$f" drivers | grep -qw ours || continue
			else
				suite_meta "$f" drivers | grep -qw "$drv" || continue
			fi
			if [ "$DRIVER" = all ] && [ "$drv" = intree ] &&
				[ "$(kernel_arch "$k")" = arm64 ] &&
				! [[ " $ARM64_PEER_SUITES " == *" $s "* ]]; then
				continue
			fi
			# CI's selection on the debug kernel and on arm64 (our
			# driver and its upstream form; the peer has its own).
			if [ -z "$SUITES" ] && [ "$drv" != intree ]; then
				if [ "$k" = 7.2 ] && [ "$DEBUG_SUITES" != all ] &&
					! [[ " $DEBUG_SUITES " == *" $s "* ]] &&
					! [[ "$drv" = upstream ]]; then
					continue
				fi
				if [ "$(kernel_arch "$k")" = arm64 ] && [ "$ARM64_SUITES" != all ] &&
					! [[ " $ARM64_SUITES " == *" $s "* ]]; then
					continue
				fi
				if [[ " $EXTRA_KERNELS " == *" $k "* ]] && [ "$EXTRA_SUITES" != all ] &&
					! [[ " $EXTRA_SUITES " == *" $s "* ]]; then
					continue
				fi
			fi
			kern=$(suite_meta "$f" kernels)
			[ -z "$kern" ] || echo "$kern" | tr " " "\n" | grep -qxF -- "$k" || continue
			arch=$(suite_meta "$f" arch)
			[ -z "$arch" ] || echo "$arch" | tr " " "\n" | grep -qxF -- "$(kernel_arch "$k")" || continue
			addjob boot "$k" "$drv" "$s"
			if [ "$(kernel_arch "$k")" = arm64 ] && [ -z "$(suite_meta "$f" devicetree)" ] &&
				[[ " $ARM64_PCI_SUITES " == *" $s "* ]]; then
				addjob boot "$k" "$drv" "$s" pci
			fi
		done
	done
	# make bench's pipeline end to end, short (the suite "bench")
	[[ " ${BENCH_KERNELS:-6.12} " == *" $k "* ]] && [[ " $suites " == *" bench "* ]] &&
		[[ " $DRIVERS " == *" ours "* ]] && addjob bench "$k"
	if [ -z "$selftest_added" ] && [ -f "$top/tests/guest/basic.sh" ] &&
		[[ " $suites " == *" basic "* ]] &&
		{ [ "${DRIVERS%% *}" != upstream ] || [[ " $UPSTREAM_KERNELS " == *" $k "* ]]; }; then
		selftest_added=1
		addjob selftest "$k" "${DRIVERS%% *}"
	fi
done

# Mutants: the mutants of the day (MUTANTS_CI), last (each is a
# module build and the boots of its own suites, on its own kernel).
[ -n "${MUTANTS_CI:-}" ] || { MUTANTS_CI=3; [ -z "$SUITES" ] || MUTANTS_CI=0; }
if [[ " $DRIVERS " == *" ours "* ]] && [ "$MUTANTS_CI" != 0 ]; then
	while read -r mname mk; do
		if [[ " $KERNELS " == *" $mk "* ]]; then
			addjob mutant "$mk" "$mname"
		else
			addjob note "mutant $mname runs on $mk, which is not in KERNELS: not run"
		fi
	done < <("$top/scripts/mutants.sh" --ci "$MUTANTS_CI")
fi

# wait_mark FILE: wait until FILE.ok or FILE.fail exists; true for .ok
wait_mark() {
	while [ ! -e "$1.ok" ] && [ ! -e "$1.fail" ]; do sleep 1; done
	[ -e "$1.ok" ]
}

# use_kernel K: the env of a prepared kernel K, for run_boot
use_kernel() {
	unset KARCH KMAKEARGS
	# shellcheck disable=SC1090
	. "$CACHE/kernels/$1.env"
	INITRD=$CACHE/build/$1/initrd${RUN_TAG:+-$RUN_TAG}.gz
	# Our module was built with gcov: its boots hand their data back.
	COV_DIR=
	[ -f "$CACHE/build/$1/modules/gcov/gpio-virtio.gcno" ] && COV_DIR=$CACHE/build/$1/modules/gcov
}

# upstream_loaded K SUITE: the upstream boot loaded the module as an in-tree
# one (the kernel says so when it loads a module not built in its tree)
upstream_loaded() {
	local c=$RUNS/$1-upstream-$2/console.log
	if ! grep -q '^GV: ok - load the upstream driver' "$c" 2>/dev/null; then
		return 0
	elif grep -q 'gpio_virtio: loading out-of-tree module taints kernel' "$c"; then
		tap notok "[$1/upstream/$2] the kernel loaded it as an in-tree module" \
			"$(grep -m 1 'out-of-tree module' "$c")"
	else
		tap ok "[$1/upstream/$2] the kernel loaded it as an in-tree module (no out-of-tree taint)"
	fi
}

run_job() {	# run_job ARGS OF ONE .job LINE
	local what=$1 k=${2:-} t0 t1 desc
	case "$what" in
	prep)
		# One preparation at a time: they share the download caches,
		# but for 7.2's fetch (a private apt state; the build started
		# early), which waits for its build without holding the rest up.
		(
			[ "$k" = 7.2 ] || flock 9
			t0=$(date +%s)
			if fetch_kernel "$k"; then
				touch "$JQ/fetched-$k.ok"
			else
				touch "$JQ/fetched-$k.fail"
				exit 1
			fi
			[ "$k" = 7.2 ] && grep -q 'built in' "$CACHE/fetch-7.2-early.log" 2>/dev/null &&
				note "[7.2] $(grep -o 'debug kernel .* built in [0-9]* s' "$CACHE/fetch-7.2-early.log" | tail -n 1), beside the boots from the start; this job waited $(( $(date +%s) - t0 ))s for it"
			[ "$k" = 7.2 ] && flock 9
			build_kernel_files "$k"
		) 9> "$CACHE/prep.lock"
		if [ $? = 0 ]; then touch "$JQ/prep-$k.ok"; else touch "$JQ/prep-$k.fail"; fi
		;;
	check)
		wait_mark "$JQ/fetched-$k" || return 0
		desc="[$k] make check: W=1, sparse and checkpatch --strict clean"
		# check.sh builds the upstream patch in the 7.2 tree too.
		[ "$k" = 7.2 ] &&
			desc="$desc; the upstream patch applies, builds in tree (W=1, C=2) and passes checkpatch --strict"
		if "$top/scripts/check.sh" "$k" > "$CACHE/check-$k.log" 2>&1; then
			tap ok "$desc"
		else
			tap notok "$desc" \
				"$(grep -E 'warning|error|WARNING|ERROR|CHECK' "$CACHE/check-$k.log" | head -n 8)"
		fi
		;;
	boot)
		wait_mark "$JQ/prep-$k" || return 0
		use_kernel "$k"
		t0=$(date +%s)
		TRANSPORT=${5:-} run_boot "$k" "$3" "$4"
		[ "$3" = upstream ] && upstream_loaded "$k" "$4"
		note "[$(TRANSPORT=${5:-} boot_label "$k")/$3/$4] $(( $(date +%s) - t0 ))s"
		;;
	selftest)
		# The verdict on a guest console (no boot): a kernel message
		# cuts a failed check's line; a suite ends on a shell error
		# with no failed check at all. Each is a failure by name.
		local sc=$RUNS/selftest-console.log got
		printf '%s\n' 'GV-STEP: one' 'GV: ok - a' \
			'[   12.345678] gpio_virtio virtio0: line 3: value 7GV: not ok - b (cut)' \
			'GV-END rc=1' > "$sc"
		# verdict_counts RC STEP: the cut check by name, the unnamed
		# failure (named by the guest's exit status and last step)
		verdict_counts() {
			local out
			out=$(n=0 passed=0 failed=0; G_OKRC=33 guest_verdict "[t]" "$sc" 33)
			echo "$(grep -c '^not ok [0-9]* - \[t\] b (cut)$' <<< "$out")/$(grep -c \
				"^not ok [0-9]* - \\[t\\] the guest named its failure (it did not: the suite exited with status $1, QEMU exit status 33; it was in: $2" <<< "$out")"
		}
		got=$(verdict_counts 1 one)
		printf '%s\n' 'GV-STEP: two' 'GV: ok - a' '/tests/x.sh: line 9: arithmetic syntax error' \
			'GV-END rc=2' > "$sc"
		got="$got $(verdict_counts 2 two)"
		if [ "$got" = "1/0 0/1" ]; then
			tap ok "harness: a failed check cut by a kernel message, and a suite that ends on a shell error, fail by name"
		else
			tap notok "harness: a failed check cut by a kernel message, and a suite that ends on a shell error, fail by name" \
				"got '$got' (the cut check/the unnamed failure, for each console), want '1/0 0/1'"
		fi
		wait_mark "$JQ/prep-$k" || return 0
		use_kernel "$k"
		LAST_BOOT_WHY= LAST_BOOT_KILL_DELAY=
		# The simulator is killed once the driver is loaded and the
		# suite's traffic has started, whatever the machine's speed.
		BOOT_SUFFIX=-selftest KILL_SIM_ON='^GV: ok - load the' \
			run_boot "$k" "$3" basic > "$CACHE/selftest.tap" 2>&1
		if [[ "$LAST_BOOT_WHY" == *"simulator died"* ]] && [ -n "$LAST_BOOT_KILL_DELAY" ] &&
			[ "$LAST_BOOT_KILL_DELAY" -lt 60 ]; then
			tap ok "harness: a simulator killed mid-run fails the boot ${LAST_BOOT_KILL_DELAY}s after the kill, with a clear message"
		else
			tap notok "harness: a simulator killed mid-run fails the boot with a clear message" \
				"got: '${LAST_BOOT_WHY}', ${LAST_BOOT_KILL_DELAY:-no} kill, $CACHE/selftest.tap"
		fi
		;;
	mutant)
		# The mutant's module in a copy of this run's initramfs.
		wait_mark "$JQ/prep-$k" || return 0
		use_kernel "$k"
		t0=$(date +%s)
		MUTANT_INITRD=$INITRD RUNS=$RUNS JOBS=1 "$top/scripts/mutants.sh" --prepared "$3"
		note "[mutant $3] $(( $(date +%s) - t0 ))s"
		;;
	bench)
		wait_mark "$JQ/prep-$k" || return 0
		t0=$(date +%s)
		local out=$RUNS/bench-smoke-$k.json mods=$CACHE/build/$k/modules
		local -a kos=()
		[ -f "$mods/gpio-virtio.ko" ] && kos+=(OURS_KO="$mods/gpio-virtio.ko")
		[ -f "$mods/gpio-virtio-intree.ko" ] && kos+=(PEER_KO="$mods/gpio-virtio-intree.ko")
		rm -f "$out"
		if env SMOKE=1 KERNELS="$k" OUT="$out" "${kos[@]}" BENCH_COMMAND="make test (bench smoke)" \
			"$top/scripts/bench.sh" > "$RUNS/bench-smoke-$k.log" 2>&1; then
			tap ok "[$k/bench] make bench's pipeline runs (SMOKE=1: one boot, tiny counts)"
		else
			tap notok "[$k/bench] make bench's pipeline runs (SMOKE=1: one boot, tiny counts)" \
				"log: $RUNS/bench-smoke-$k.log" "$(tail -n 5 "$RUNS/bench-smoke-$k.log")"
		fi
		python3 "$top/scripts/bench-report.py" --check "$out" --expect-boots 1 |
			relay "[$k/bench] "
		note "[$k/bench] $(( $(date +%s) - t0 ))s"
		;;
	note) shift; note "$*" ;;
	missing) tap notok "[$k/$3] suite $4 exists" ;;
	esac
}

worker() {
	local i
	local -a job
	while :; do
		# Take the next job: the counter is shared by the workers.
		i=$( {
			flock 8
			i=$(cat "$JQ/next" 2>/dev/null || echo 0)
			echo $((i + 1)) > "$JQ/next"
			echo "$i"
		} 8> "$JQ/next.lock")
		[ "$i" -lt "$njobs" ] || return 0
		read -r -a job < "$JQ/$i.job"
		run_job "${job[@]}" > "$JQ/$i.out" 2>&1
		touch "$JQ/$i.done"
	done
}

JOBS=${JOBS:-$(nproc)}
[ "$JOBS" -ge 1 ] 2>/dev/null || die "JOBS must be a number of at least 1 (got '$JOBS')"
wpids=()
for ((w = 0; w < JOBS; w++)); do
	worker &
	wpids+=($!)
done
trap 'kill "${wpids[@]}" $early_pid 2>/dev/null' EXIT
# Print each job's results in order, numbered here.
for ((i = 0; i < njobs; i++)); do
	while [ ! -e "$JQ/$i.done" ]; do
		alive=0
		for p in "${wpids[@]}"; do kill -0 "$p" 2>/dev/null && alive=1; done
		if [ $alive = 0 ] && [ ! -e "$JQ/$i.done" ]; then
			tap notok "job '$(cat "$JQ/$i.job")' ran" "every worker has exited"
			break
		fi
		sleep 1
	done
	[ -e "$JQ/$i.out" ] && relay "" < "$JQ/$i.out"
done
wait "${wpids[@]}" 2>/dev/null
[ -z "$early_pid" ] || wait "$early_pid" 2>/dev/null
trap - EXIT

# Coverage: the data of every boot of our module on a kernel where it was
# built with gcov, merged (a run whose boots sent none fails here).
for k in $KERNELS; do
	gdir=$CACHE/build/$k/modules/gcov
	[ -f "$gdir/gpio-virtio.gcno" ] || continue
	gcdas=() nboots=0
	for ((i = 0; i < njobs; i++)); do
		read -r -a job < "$JQ/$i.job"
		[ "${job[0]}" = boot ] && [ "${job[1]}" = "$k" ] && [ "${job[2]}" = ours ] || continue
		nboots=$((nboots + 1))
		f=$RUNS/$k-ours-${job[3]}/gpio-virtio.gcda
		[ -f "$f" ] && gcdas+=("$f")
	done
	[ $nboots -gt 0 ] || continue
	if r=$("$top/scripts/coverage.sh" report "$gdir" "$RUNS/coverage-$k" ${gcdas[@]+"${gcdas[@]}"} 2>&1); then
		tap ok "[$k/ours] coverage of gpio-virtio.c: $r" "report: $RUNS/coverage-$k/coverage.txt"
	else
		tap notok "[$k/ours] coverage of gpio-virtio.c (${#gcdas[@]} of $nboots boots sent data)" "$r"
	fi
done

for k in $KERNELS; do
	f=$CACHE/kernels/$k.env
	[ -f "$f" ] && echo "kernel $k used: $(. "$f"; echo "$KRELEASE, ${KPKGS:-packages not recorded (prepared by an older checkout)}")"
done >> "$RUNS/versions.txt"
note "versions: $RUNS/versions.txt"
note "expected failures of the peer (TODO): $todo"
note "time: $(( $(date +%s) - start_time ))s"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
