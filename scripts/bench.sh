#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: our driver against the in-tree one in the same guest, on the
# same simulator. Prints the mean time per operation (microseconds, under
# QEMU TCG, so only the ratios carry over to real machines) and the ratio
# in-tree / ours (above 1: ours is faster). It reports; it never fails on speed.
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"
KERNELS=${KERNELS:-6.12}
DRIVERS="ours intree"
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=$CACHE/runs${RUN_TAG:+-$RUN_TAG}
SIM=$top/tests/sim/vgpio-sim
. "$top/tests/lib-boot.sh"

make -s -C "$top/tests/sim" || die "the simulator does not build"
make -s -C "$top/tests/guest" || die "the guest programs do not build"

for k in $KERNELS; do
	prepare_kernel "$k" || die "kernel $k is not ready (see $CACHE/*-$k*.log)"
	declare -A fig=()
	for drv in $DRIVERS; do
		run_boot "$k" "$drv" bench
		line=$(tr -d '\r' < "$RUNS/$k-$drv-bench/console.log" | sed -n 's/^GV-BENCH: //p')
		[ -n "$line" ] || die "no figures from the $drv driver on $k"
		fig[$drv]=$line
	done
	echo
	echo "Linux $k, QEMU TCG, 32-line simulator: microseconds per operation"
	printf '%-10s %12s %12s %8s\n' operation ours in-tree ratio
	read -ra o <<< "${fig[ours]}"
	read -ra t <<< "${fig[intree]}"
	for ((i = 0; i < ${#o[@]}; i += 2)); do
		awk -v n="${o[$i]}" -v a="${o[$((i + 1))]}" -v b="${t[$((i + 1))]}" \
			'BEGIN { printf "%-10s %12.1f %12.1f %7.2fx\n", n, a, b, b / a }'
	done
done
