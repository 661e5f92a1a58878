#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: our driver against the in-tree one (the peer) in one guest
# boot, on the same simulated devices, alternating: pass 1 peer then ours,
# pass 2 ours then peer (tests/guest/bench.sh, tests/guest/src/gvbench.c).
# Prints progress, then a table of the figures and ratios (in-tree / ours)
# and which of issue 12's targets are met; writes the figures as JSON. Under
# QEMU TCG only the ratios carry over to real machines. It reports: it never
# fails on speed, only when the run itself broke.
#
# Environment (all optional):
#   KERNELS=6.12        kernels to run on (one boot each)
#   METRICS="single multi noindirect latency rate probe"   what to measure
#   OURS_KO=FILE        our module (default: built from this tree)
#   PEER_KO=FILE        the peer (default: the in-tree driver, built from the
#                       kernel's source); e.g. an older build of ours
#   OURS_LABEL, PEER_LABEL   their names in the table (default ours, in-tree)
#   PASSES=2            1: peer then ours only
#   OURS_PARAMS, PEER_PARAMS   module parameters for insmod, comma-separated
#                       (e.g. OURS_PARAMS=poll_us=20)
#   N=2000 NMULTI=500 WARM=100   single-line / 32-64-line operations, warm-up
#   LAT_N=1000 LAT_US=10000      interrupt latency: edges and their spacing
#   RATE_S=5 RATE_START=100 RATE_MAX=50000 RATE_REFINE=3   lossless-rate search
#   PROBE_N=5 PROBE_BIG_N=2      binds of the 1024- and 65535-line devices
#   SIM=FILE            another build of the simulator
#   OUT=FILE            the JSON; default results/bench.json for a full run
#                       of this tree's modules (the README table is then
#                       regenerated too), else $CACHE/bench/last.json
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"
KERNELS=${KERNELS:-6.12}
ALL_METRICS="single multi noindirect latency rate probe"
METRICS=${METRICS:-$ALL_METRICS}
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=$CACHE/runs${RUN_TAG:+-$RUN_TAG}
SIM=${SIM:-$top/tests/sim/vgpio-sim}
OURS_LABEL=${OURS_LABEL:-ours}
PEER_LABEL=${PEER_LABEL:-in-tree}
DRIVERS="ours intree"
. "$top/tests/lib-boot.sh"

say() { echo "[bench] $*"; }

for m in $METRICS; do
	[[ " $ALL_METRICS " == *" $m "* ]] || die "unknown metric group '$m' (known: $ALL_METRICS)"
done
full=0
[ -z "${OURS_KO:-}${PEER_KO:-}${OURS_PARAMS:-}${PEER_PARAMS:-}" ] && [ "$(echo $METRICS)" = "$ALL_METRICS" ] &&
	[ "${PASSES:-2}" = 2 ] && full=1
if [ -z "${OUT:-}" ]; then
	if [ $full = 1 ]; then OUT=$top/results/bench.json; else OUT=$CACHE/bench/last.json; fi
fi
for v in OURS_KO PEER_KO; do
	[ -z "${!v:-}" ] || [ -f "${!v}" ] || die "$v=${!v}: no such file"
done

mkdir -p "$CACHE/bench" "$RUNS" "$(dirname "$OUT")"
say "building the simulator and the guest programs"
make -s -C "$top/tests/sim" > "$CACHE/bench/build-sim.log" 2>&1 ||
	die "the simulator does not build (see $CACHE/bench/build-sim.log)"
make -s -C "$top/tests/guest" > "$CACHE/bench/build-guest.log" 2>&1 ||
	die "the guest programs do not build (see $CACHE/bench/build-guest.log)"
for c in burst edgetimes clock; do
	"$SIM" --help 2>&1 | grep -qE "^ +$c " ||
		say "note: this simulator has no '$c' command: the interrupt figures that need it will be missing"
done

# bench_kernel K: fetch K, build or take the two modules, the initramfs
bench_kernel() {
	local k=$1 out=$CACHE/bench/$k
	mkdir -p "$out"
	say "[$k] kernel (scripts/fetch-kernel.sh $k; the first run downloads it)"
	fetch_kernel "$k" > "$out/fetch.tap" || { cat "$out/fetch.tap"; return 1; }
	unset KARCH KMAKEARGS
	# shellcheck disable=SC1090
	. "$CACHE/kernels/$k.env"
	if [ -n "${OURS_KO:-}" ]; then
		cp "$OURS_KO" "$out/bench-ours.ko"
	else
		say "[$k] building gpio-virtio.ko"
		"$top/scripts/build-module.sh" "$k" "$out/mod" > "$out/build-ours.log" 2>&1 ||
			{ tail -n 5 "$out/build-ours.log"; return 1; }
		cp "$out/mod/gpio-virtio.ko" "$out/bench-ours.ko"
	fi
	if [ -n "${PEER_KO:-}" ]; then
		cp "$PEER_KO" "$out/bench-peer.ko"
	else
		say "[$k] building the in-tree driver from the kernel's source"
		"$top/scripts/build-intree.sh" "$k" "$out/mod" > "$out/build-peer.log" 2>&1 ||
			{ tail -n 5 "$out/build-peer.log"; return 1; }
		cp "$out/mod/gpio-virtio-intree.ko" "$out/bench-peer.ko"
	fi
	say "[$k] building the initramfs"
	INITRD=$out/initrd.gz
	DKMS_KO= "$top/scripts/mkinitramfs.sh" "$CACHE/kernels/$k.env" "$INITRD" \
		"$out/bench-ours.ko" "$out/bench-peer.ko" > "$out/initrd.log" 2>&1 ||
		{ tail -n 5 "$out/initrd.log"; return 1; }
}

# modinfo_of KO: what identifies a module file
modinfo_of() {
	local f
	for f in name vermagic srcversion; do
		printf '%s=%s\n' "$f" "$(/sbin/modinfo -F "$f" "$1" 2>/dev/null || modinfo -F "$f" "$1" 2>/dev/null)"
	done
	printf 'sha256=%s\n' "$(sha256sum < "$1" | cut -c1-16)"
}

# follow CONSOLE PID LOADFILE: progress lines from the guest while the boot
# PID runs; the machine's 1-minute load average every 10 s into LOADFILE
follow() {
	local con=$1 pid=$2 loadf=$3 seen=0 line total alive=1 tick=0
	: > "$loadf"
	while [ $alive = 1 ]; do
		kill -0 "$pid" 2>/dev/null || alive=0	# then one last read
		[ $((tick++ % 10)) = 0 ] && cut -d' ' -f1 /proc/loadavg >> "$loadf"
		if [ -f "$con" ]; then
			total=$(wc -l < "$con")
			if [ "$total" -gt "$seen" ]; then
				sed -n "$((seen + 1)),${total}p" "$con" | tr -d '\r' | while IFS= read -r line; do
					case "$line" in
					"GV-STEP: "*) say "  ${line#GV-STEP: }" ;;
					"GV-LOG: rate "*|"GV-LOG: latency"*) say "    ${line#GV-LOG: }" ;;
					"GV: not ok"*) say "  FAILED: ${line#GV: not ok - }" ;;
					"GV-BENCH: "*) python3 "$top/scripts/bench-report.py" --brief "$line" ;;
					esac
				done
				seen=$total
			fi
		fi
		[ $alive = 1 ] && sleep 1
	done
}

settings="gv.bench_metrics=$(echo $METRICS | tr ' ' ,)"
for v in N:n NMULTI:nmulti WARM:warm LAT_N:lat_n LAT_US:lat_us RATE_S:rate_s \
	RATE_START:rate_start RATE_MAX:rate_max RATE_REFINE:rate_refine \
	PROBE_N:probe_n PROBE_BIG_N:probe_big_n PASSES:passes \
	OURS_PARAMS:ours_params PEER_PARAMS:peer_params; do
	var=${v%%:*}
	[ -n "${!var:-}" ] && settings="$settings gv.bench_${v#*:}=${!var}"
done

rc=0
reports=()
for k in $KERNELS; do
	bench_kernel "$k" || die "kernel $k is not ready (see $CACHE/bench/$k/)"
	w=$RUNS/$k-bench-bench
	meta=$CACHE/bench/$k/meta.txt
	{
		echo "date=$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
		echo "host_kernel=$(uname -sr)"
		echo "host_os=$(. /etc/os-release && echo "$PRETTY_NAME")"
		echo "cpus=$(nproc)"
		echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
		echo "mem_total_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)"
		echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
		echo "qemu=$($QEMU --version | head -n 1)"
		echo "qemu_args=-accel tcg -smp 2 -m 512, vhost-user-gpio-pci x4"
		echo "kver=$k"
		echo "krelease=$KRELEASE"
		echo "kpkgs=${KPKGS:-}"
		echo "tree=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
		echo "ours_label=$OURS_LABEL"
		echo "peer_label=$PEER_LABEL"
		echo "ours_source=${OURS_KO:-built from this tree (gpio-virtio.c)}"
		echo "peer_source=${PEER_KO:-the in-tree drivers/gpio/gpio-virtio.c of linux-source-$k}"
		modinfo_of "$CACHE/bench/$k/bench-ours.ko" | sed 's/^/ours_/'
		modinfo_of "$CACHE/bench/$k/bench-peer.ko" | sed 's/^/peer_/'
		echo "settings=$settings"
		echo "command=${BENCH_COMMAND:-make bench KERNELS=$k}"
	} > "$meta"
	say "[$k] booting the guest (one boot, both drivers; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
	t0=$SECONDS
	BOOT_APPEND=$settings run_boot "$k" bench bench > "$CACHE/bench/$k/boot.tap" 2>&1 &
	bpid=$!
	# run_boot starts by emptying its directory: follow the new console
	for ((i = 0; i < 50; i++)); do
		[ -f "$w/console.log" ] && [ "$w/console.log" -nt "$meta" ] && break
		sleep 0.2
	done
	follow "$w/console.log" "$bpid" "$CACHE/bench/$k/load.txt"
	wait "$bpid"
	echo "boot_seconds=$((SECONDS - t0))" >> "$meta"
	echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$meta"
	echo "load_during=$(awk '{ s += $1; if ($1 > m) m = $1 } END { if (NR) printf "mean %.2f max %.2f (1-minute load average every 10 s)", s / NR, m }' "$CACHE/bench/$k/load.txt")" >> "$meta"
	grep '^not ok' "$CACHE/bench/$k/boot.tap" | grep -v 'kernel log clean' | sed 's/^/[bench]   /'
	reports+=(--run "$meta" "$w/console.log")
done

args=(--json "$OUT")
[ $full = 1 ] && [ "$OUT" = "$top/results/bench.json" ] && args+=(--readme "$top/README.md")
BAD_RE=$BAD_RE python3 "$top/scripts/bench-report.py" "${args[@]}" "${reports[@]}" || rc=1
[ $full = 1 ] || say "(results/bench.json and the README table are written by a full run of this tree's modules only)"
exit $rc
