#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite: the simulator's unit tests, then for every selected kernel
# and driver one QEMU boot per guest suite (tests/guest/*.sh). Prints TAP and
# ends with "N passed, N failed".
#
# Environment (all optional):
#   KERNELS="6.1 6.12 7.2"   kernels to boot
#   DRIVER=all|ours|intree    drivers to test (default all)
#   SUITES="basic edges"      guest suites to run (default: every suite)
#   PEER_KERNELS="6.1 6.12"   with DRIVER=all, the kernels the in-tree peer runs on
#   TIMEOUT_SCALE=1           multiply every boot's time limit
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

KERNELS=${KERNELS:-6.1 6.12 7.2}
DRIVER=${DRIVER:-all}
SUITES=${SUITES:-}
PEER_KERNELS=${PEER_KERNELS:-6.1 6.12}
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=$CACHE/runs${RUN_TAG:+-$RUN_TAG}
SIM=$top/tests/sim/vgpio-sim

case "$DRIVER" in
all) DRIVERS="ours intree" ;;
ours|intree) DRIVERS=$DRIVER ;;
*) die "DRIVER must be ours, intree or all (got '$DRIVER')" ;;
esac

. "$top/tests/lib-boot.sh"

# ---------------------------------------------------------------------------
echo "TAP version 13"
note "kernels: $KERNELS; drivers: $DRIVERS; $(${QEMU} --version | head -n 1)"

if make -s -C "$top/tests/sim" > "$CACHE/sim-build.log" 2>&1 || { mkdir -p "$CACHE" &&
	make -s -C "$top/tests/sim" > "$CACHE/sim-build.log" 2>&1; }; then
	tap ok "simulator builds"
else
	tap notok "simulator builds" "$(tail -n 5 "$CACHE/sim-build.log")"
fi
while IFS= read -r line; do
	case "$line" in
	"ok "*) tap ok "sim unit: $(echo "$line" | sed -E 's/^ok [0-9]+ (- )?//')" ;;
	"not ok "*) tap notok "sim unit: $(echo "$line" | sed -E 's/^not ok [0-9]+ (- )?//')" ;;
	esac
done < <(make -s -C "$top/tests/sim" check 2>&1)

if [ -n "$SUITES" ]; then
	suites=$SUITES
else
	suites=$(cd "$top/tests/guest" && ls ./*.sh | sed 's|^\./||; s|\.sh$||' | grep -v '^lib$' | tr '\n' ' ')
fi

# Packaging: DKMS against the Debian headers and the .deb (before the boots,
# which load the DKMS-built module).
if [[ " $DRIVERS " == *" ours "* ]] && [ -x "$top/tests/packaging.sh" ]; then
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) tap ok "packaging: ${line#ok - }" ;;
		"not ok - "*) tap notok "packaging: ${line#not ok - }" ;;
		*) echo "#   $line" ;;
		esac
	done < <("$top/tests/packaging.sh" 2>&1)
fi

make -s -C "$top/tests/guest" > "$CACHE/guest-build.log" 2>&1 ||
	tap notok "guest programs build" "$(tail -n 5 "$CACHE/guest-build.log")"

for k in $KERNELS; do
	prepare_kernel "$k" || continue
	if [[ " $DRIVERS " == *" ours "* ]] && [ -x "$top/scripts/check.sh" ]; then
		if "$top/scripts/check.sh" "$k" > "$CACHE/check-$k.log" 2>&1; then
			tap ok "[$k] make check: W=1, sparse and checkpatch --strict clean"
		else
			tap notok "[$k] make check: W=1, sparse and checkpatch --strict clean" \
				"$(grep -E 'warning|error|WARNING|ERROR|CHECK' "$CACHE/check-$k.log" | head -n 8)"
		fi
	fi
	for drv in $DRIVERS; do
		# The peer is proven on Debian's kernels; the 7.2 debug kernel is
		# our driver's reliability gate (DRIVER=intree runs it anywhere).
		if [ "$DRIVER" = all ] && [ "$drv" = intree ] &&
			! [[ " $PEER_KERNELS " == *" $k "* ]]; then
			note "[$k/intree] peer suites run on $PEER_KERNELS only (DRIVER=intree runs them here)"
			continue
		fi
		for s in $suites; do
			f=$top/tests/guest/$s.sh
			[ -f "$f" ] || { tap notok "[$k/$drv] suite $s exists"; continue; }
			suite_meta "$f" drivers | grep -qw "$drv" || continue
			kern=$(suite_meta "$f" kernels)
			[ -z "$kern" ] || echo "$kern" | grep -qw "$k" || continue
			run_boot "$k" "$drv" "$s"
		done
	done
	# The harness itself: a simulator killed mid-run fails the boot quickly
	# and says why (once, on the first kernel).
	if [ -z "${selftest_done:-}" ] && [ -f "$top/tests/guest/basic.sh" ] &&
		[[ " $suites " == *" basic "* ]]; then
		selftest_done=1
		LAST_BOOT_WHY=
		n0=$n failed0=$failed passed0=$passed
		t0=$(date +%s)
		KILL_SIM_AFTER=10 run_boot "$k" "${DRIVERS%% *}" basic > "$CACHE/selftest.tap"
		t1=$(date +%s)
		n=$n0 failed=$failed0 passed=$passed0
		if [[ "$LAST_BOOT_WHY" == *"simulator died"* ]] && [ $((t1 - t0)) -lt 60 ]; then
			tap ok "harness: a simulator killed mid-run fails the boot in $((t1 - t0))s with a clear message"
		else
			tap notok "harness: a simulator killed mid-run fails the boot with a clear message" \
				"got: '${LAST_BOOT_WHY}' after $((t1 - t0))s"
		fi
	fi
done

note "expected failures of the peer (TODO): $todo"
note "time: $(( $(date +%s) - start_time ))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
