#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: our driver against the in-tree one (the peer), on the same
# simulated devices, in BOOTS guest boots of PASSES passes each; in each
# pass both drivers are measured one after the other, in an order drawn at
# random for that pass (tests/guest/bench.sh, tests/guest/src/gvbench.c).
# Beside the wall times it takes the CPU they cost: the guest's (all its
# vCPUs, from /proc/stat, and the caller's own) and the host's (the QEMU
# vCPU threads, QEMU's other threads and the simulators, sampled here from
# /proc every 20 ms by scripts/bench-report.py --sample). Every metric gets
# the ratio in-tree / ours with a bootstrap 95% confidence interval over
# the boots and passes (scripts/bench-report.py says how); a row whose
# interval holds 1 shows no difference. Prints progress, then the table;
# writes the figures as JSON. It reports: it never fails on speed, only
# when the run itself broke.
#
# Environment (all optional):
#   KERNELS=6.12        kernels to run on
#   BOOTS=3 PASSES=2    guest boots per kernel, passes per boot
#   SEED=N              the seed of the drivers' and poll_us values' orders
#                       (default: drawn, and recorded in the JSON)
#   METRICS="single multi noindirect latency irqcpu rate contention sweep probe"
#                       what to measure (tests/guest/bench.sh)
#   OURS_KO=FILE        our module (default: built from this tree)
#   PEER_KO=FILE        the peer (default: the in-tree driver, built from the
#                       kernel's source); e.g. an older build of ours
#   OURS_LABEL, PEER_LABEL   their names in the table (default ours, in-tree)
#   OURS_PARAMS, PEER_PARAMS   module parameters for insmod, comma-separated
#                       (e.g. OURS_PARAMS=poll_us=20)
#   N=2000 NMULTI=500 WARM=100 MIN_MS=2000   single-line / 32-64-line
#                       operations (at least that many, for at least MIN_MS),
#                       untimed warm-up
#   LOOP_N=1000 LOOP_GAP=1000   loopback round trips, us between them
#   LAT_N=200 LAT_US=10000      edges of the clock-offset latency (a bound)
#   IRQ_HZ=100 IRQ_S=3          the CPU-per-interrupt window
#   RATE_S=2 RATE_K=3 RATE_BRACKET=5 RATE_START=100 RATE_MAX=50000
#   RATE_LINES="1 8 32"         lossless-rate search: trial length (s),
#                       lossless trials a rate needs, final bracket (%)
#   HOG=N               spinning processes of the contention runs (default:
#                       the guest's CPUs, so one more runnable than CPUs)
#   POLL_SWEEP="0 10 30 100"    poll_us values of the sweep (ours)
#   PROBE_N=5 PROBE_BIG_N=2     binds of the 1024- and 65535-line devices
#   BOOT_RETRIES=2      a guest that dies before its first pass (a TCG boot
#                       starved by the host) is booted again that many times
#   SIM=FILE            another build of the simulator
#   SIM_PRIO=fifo1      the simulators' scheduling, set by the CPU sampler:
#                       fifoN: SCHED_FIFO priority N; a number: that nice
#                       value; 0: as started. They stand for a device, which
#                       does not wait for the host's CPUs: on a 2-core host
#                       at load 20, at nice 0 or -5, their edges came a p99
#                       of 1-7 ms late and most lossy rate trials had edges
#                       over a quarter period late; with fifo1 0.2-0.9 ms,
#                       1 of 16 trials
#   OUT=FILE            the JSON; default results/bench.json for a full run
#                       (every metric group, this tree's modules, no
#                       parameters or counts changed, PASSES=2, BOOTS of 3
#                       or more: the README table is then regenerated too),
#                       else $BENCH_DIR/last.json
#   README=FILE         regenerate this README's table from OUT (a full run
#                       does it for README.md)
#   BENCH_DIR=DIR       the work files (default $CACHE/bench)
#   SMOKE=1             a short run that proves the pipeline, not the drivers
#                       (make test runs it): one boot of two passes, every
#                       metric group with tiny counts (the variables above
#                       still override them), work files in $CACHE/bench-smoke
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"
KERNELS=${KERNELS:-6.12}
ALL_METRICS="single multi noindirect latency irqcpu rate contention sweep probe"
METRICS=${METRICS:-$ALL_METRICS}
PASSES=${PASSES:-2}
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=$CACHE/runs${RUN_TAG:+-$RUN_TAG}
SIM=${SIM:-$top/tests/sim/vgpio-sim}
OURS_LABEL=${OURS_LABEL:-ours}
PEER_LABEL=${PEER_LABEL:-in-tree}
DRIVERS="ours intree"
. "$top/tests/lib-boot.sh"

say() { echo "[bench] $*"; }

if [ "${SMOKE:-0}" = 1 ]; then
	BOOTS=${BOOTS:-1}
	for v in N=20 NMULTI=5 WARM=2 MIN_MS=100 LOOP_N=10 LOOP_GAP=0 LAT_N=10 LAT_US=5000 \
		IRQ_HZ=50 IRQ_S=0.2 RATE_S=0.2 RATE_K=1 RATE_BRACKET=100 RATE_START=50 RATE_MAX=400 \
		"POLL_SWEEP=0 30" PROBE_N=1 PROBE_BIG_N=0; do
		var=${v%%=*}
		[ -n "${!var:-}" ] || printf -v "$var" '%s' "${v#*=}"
	done
	BENCH_DIR=${BENCH_DIR:-$CACHE/bench-smoke}
fi
BENCH_DIR=${BENCH_DIR:-$CACHE/bench}
BOOTS=${BOOTS:-3}
SIM_PRIO=${SIM_PRIO:-fifo1}
if ! [[ "$SIM_PRIO" =~ ^fifo[1-9][0-9]?$ ]]; then
	[[ "$SIM_PRIO" =~ ^-?[0-9]+$ ]] && [ "$SIM_PRIO" -ge -20 ] && [ "$SIM_PRIO" -le 19 ] ||
		die "SIM_PRIO must be fifoN (SCHED_FIFO priority 1-99) or a nice value -20 to 19 (got '$SIM_PRIO')"
fi
for m in $METRICS; do
	[[ " $ALL_METRICS " == *" $m "* ]] || die "unknown metric group '$m' (known: $ALL_METRICS)"
done
for v in BOOTS PASSES; do
	[[ "${!v}" =~ ^[1-9][0-9]*$ ]] || die "$v must be a whole number of at least 1 (got '${!v}')"
done
# the count variables: NAME:guest key
COUNTS="N:n NMULTI:nmulti WARM:warm MIN_MS:min_ms LOOP_N:loop_n LOOP_GAP:loop_gap
	LAT_N:lat_n LAT_US:lat_us IRQ_HZ:irq_hz IRQ_S:irq_s RATE_S:rate_s RATE_K:rate_k
	RATE_BRACKET:rate_bracket RATE_START:rate_start RATE_MAX:rate_max
	RATE_LINES:rate_lines HOG:hog POLL_SWEEP:sweep PROBE_N:probe_n PROBE_BIG_N:probe_big_n"
changed=
for v in $COUNTS; do
	var=${v%%:*}
	[ -n "${!var:-}" ] || continue
	changed="$changed $var"
	case "$var" in
	RATE_LINES|POLL_SWEEP)
		[[ "${!var}" =~ ^[0-9]+( [0-9]+)*$ ]] || die "$var must be numbers separated by spaces (got '${!var}')" ;;
	RATE_S|IRQ_S|IRQ_HZ|RATE_BRACKET|RATE_START|RATE_MAX)
		[[ "${!var}" =~ ^[0-9]+(\.[0-9]+)?$ ]] && [[ ! "${!var}" =~ ^0+(\.0+)?$ ]] ||
			die "$var must be a positive number (got '${!var}')" ;;
	*)	[[ "${!var}" =~ ^[0-9]+$ ]] || die "$var must be a whole number (got '${!var}')" ;;
	esac
done
[ -z "${RATE_LINES:-}" ] || for n in $RATE_LINES; do
	[ "$n" -ge 1 ] && [ "$n" -le 56 ] || die "RATE_LINES: $n lines (1 to 56; 1 is line 41, 8 lines 48-55, others from line 8)"
done
[ -z "${RATE_K:-}" ] || [ "$RATE_K" -ge 1 ] || die "RATE_K must be at least 1"
full=0
[ -z "${OURS_KO:-}${PEER_KO:-}${OURS_PARAMS:-}${PEER_PARAMS:-}$changed" ] &&
	[ "$(echo $METRICS)" = "$ALL_METRICS" ] && [ "$PASSES" = 2 ] && [ "$BOOTS" -ge 3 ] && full=1
if [ -z "${OUT:-}" ]; then
	if [ $full = 1 ]; then OUT=$top/results/bench.json; else OUT=$BENCH_DIR/last.json; fi
fi
[ -z "${README:-}" ] && [ $full = 1 ] && [ "$OUT" = "$top/results/bench.json" ] && README=$top/README.md
for v in OURS_KO PEER_KO; do
	[ -z "${!v:-}" ] || [ -f "${!v}" ] || die "$v=${!v}: no such file"
done
if [ -z "${SEED:-}" ]; then
	SEED=$(( $(date +%s%N | cut -c8-16) % 1000000 ))
fi
[[ "$SEED" =~ ^[0-9]+$ ]] || die "SEED must be a whole number (got '$SEED')"
RANDOM=$SEED

t_start=$SECONDS
mkdir -p "$BENCH_DIR" "$RUNS" "$(dirname "$OUT")"
# QEMU names its threads ("CPU 0/TCG", ...) only when asked: the CPU
# sampler tells the vCPU threads by those names.
QEMU_REAL=$(command -v "$QEMU") || die "no $QEMU"
QEMU=$BENCH_DIR/qemu-named-threads
printf '#!/bin/sh\nexec %q -name gv-bench,debug-threads=on "$@"\n' "$QEMU_REAL" > "$QEMU"
chmod +x "$QEMU"
say "building the simulator and the guest programs"
make -s -C "$top/tests/sim" > "$BENCH_DIR/build-sim.log" 2>&1 ||
	die "the simulator does not build (see $BENCH_DIR/build-sim.log)"
make -s -C "$top/tests/guest" > "$BENCH_DIR/build-guest.log" 2>&1 ||
	die "the guest programs do not build (see $BENCH_DIR/build-guest.log)"
for c in burst edgetimes clock loop irqstate; do
	"$SIM" --help 2>&1 | grep -qE "^ +$c " ||
		say "note: this simulator has no '$c' command: the figures that need it will be missing"
done

# bench_kernel K: fetch K, build or take the two modules, the initramfs
bench_kernel() {
	local k=$1 out
	out=$BENCH_DIR/$k
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

# shuffle WORD...: the words in an order drawn from $RANDOM (Fisher-Yates)
shuffle() {
	local -a a=("$@")
	local i j t
	for ((i = ${#a[@]} - 1; i > 0; i--)); do
		j=$((RANDOM % (i + 1)))
		t=${a[i]} a[i]=${a[j]} a[j]=$t
	done
	echo "${a[*]}"
}

settings="gv.bench_metrics=$(echo $METRICS | tr ' ' ,) gv.bench_passes=$PASSES"
for v in $COUNTS OURS_PARAMS:ours_params PEER_PARAMS:peer_params; do
	var=${v%%:*}
	[ -n "${!var:-}" ] && settings="$settings gv.bench_${v#*:}=$(echo ${!var} | tr ' ' ,)"
done
sweep_values=${POLL_SWEEP:-0 10 30 100}

rc=0
reports=()
timing=()
for k in $KERNELS; do
	t0=$SECONDS
	bench_kernel "$k" || die "kernel $k is not ready (see $BENCH_DIR/$k/)"
	timing+=("prep_$k=$((SECONDS - t0))")
	runs=()
	for ((b = 1; b <= BOOTS; b++)); do
		d=$BENCH_DIR/$k/boot$b
		rm -rf "$d" && mkdir -p "$d"
		sfx=-b$b
		[ "${SMOKE:-0}" = 1 ] && sfx=-smoke-b$b
		w=$RUNS/$k-bench-bench$sfx
		# this boot's draws: the drivers' order and the poll_us order of
		# each pass
		orders="" draws=""
		for ((p = 1; p <= PASSES; p++)); do
			if ((RANDOM % 2)); then o=peer,ours; else o=ours,peer; fi
			sw=$(shuffle $sweep_values | tr ' ' ,)
			orders="$orders gv.bench_order$p=$o gv.bench_sweep$p=$sw"
			draws="$draws pass$p=$o/poll_us:$sw"
		done
		meta=$d/meta.txt
		{
			echo "date=$(date -u '+%Y-%m-%dT%H:%M:%SZ')"
			echo "host_kernel=$(uname -sr)"
			echo "host_os=$(. /etc/os-release && echo "$PRETTY_NAME")"
			echo "cpus=$(nproc)"
			echo "cpu_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
			echo "mem_total_kb=$(awk '$1 == "MemTotal:" { print $2 }' /proc/meminfo)"
			echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
			echo "qemu=$($QEMU --version | head -n 1)"
			echo "qemu_args=-accel tcg -smp 2 -m 512, vhost-user-gpio-pci x4, -name debug-threads=on"
			echo "kver=$k"
			echo "krelease=$KRELEASE"
			echo "kpkgs=${KPKGS:-}"
			echo "tree=$(git -C "$top" describe --always --dirty 2>/dev/null || echo unknown)"
			echo "ours_label=$OURS_LABEL"
			echo "peer_label=$PEER_LABEL"
			echo "ours_source=${OURS_KO:-built from this tree (gpio-virtio.c)}"
			echo "peer_source=${PEER_KO:-the in-tree drivers/gpio/gpio-virtio.c of linux-source-$k}"
			modinfo_of "$BENCH_DIR/$k/bench-ours.ko" | sed 's/^/ours_/'
			modinfo_of "$BENCH_DIR/$k/bench-peer.ko" | sed 's/^/peer_/'
			echo "settings=$settings$orders"
			echo "boot=$b"
			echo "sim_prio=$SIM_PRIO"
			echo "boots=$BOOTS"
			echo "seed=$SEED"
			echo "draws=${draws# }"
			echo "command=${BENCH_COMMAND:-make bench KERNELS=$k}"
		} > "$meta"
		say "[$k] boot $b of $BOOTS ($draws; load average now $(cut -d' ' -f1-3 /proc/loadavg))"
		t0=$SECONDS
		for ((try = 0; ; try++)); do
			# The host's CPU: QEMU's and the simulators' threads,
			# sampled from when they start until QEMU ends.
			SIM_PRIO=$SIM_PRIO python3 "$top/scripts/bench-report.py" --sample "$w" "$d/cpu.txt" \
				2> "$d/sampler.log" &
			spid=$!
			# no_timer_check: a starved TCG vCPU fails the kernel's
			# early IO-APIC timer check ("IO-APIC + timer doesn't
			# work!", a panic; seen at load 23)
			BOOT_SUFFIX=$sfx BOOT_APPEND="no_timer_check $settings$orders" \
				run_boot "$k" bench bench > "$d/boot.tap" 2>&1 &
			bpid=$!
			# run_boot starts by emptying its directory: follow the
			# new console
			for ((i = 0; i < 50; i++)); do
				[ -f "$w/console.log" ] && [ "$w/console.log" -nt "$d/boot.tap" ] && break
				sleep 0.2
			done
			# progress (and the load average every 10 s) until the
			# boot ends
			python3 "$top/scripts/bench-report.py" --follow "$w/console.log" "$bpid" "$d/load.txt"
			wait "$bpid"
			wait "$spid" || say "[$k] boot $b: the CPU sampler failed: $(tail -n 2 "$d/sampler.log")"
			# A guest that died before its first pass measured nothing:
			# it is booted again (BOOT_RETRIES times at most), the
			# failure kept and counted in the JSON.
			grep -q '^GV-BENCH-PASS' "$w/console.log" 2>/dev/null && break
			[ "$try" -lt "${BOOT_RETRIES:-2}" ] || break
			cp "$w/console.log" "$d/console-failed-$try.log" 2>/dev/null
			cp "$d/boot.tap" "$d/boot-failed-$try.tap"
			echo "failed_try_$try=$(grep -m 1 -E "$BAD_RE|^#   " "$d/boot.tap" | sed 's/^#   //')" >> "$meta"
			say "[$k] boot $b died before measuring: $(grep -m 1 -E "$BAD_RE" "$w/console.log" |
				tr -d '\r' | cut -c1-120); booted again"
		done
		echo "retries=$try" >> "$meta"
		echo "boot_seconds=$((SECONDS - t0))" >> "$meta"
		timing+=("boot_${k}_$b=$((SECONDS - t0))")
		echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >> "$meta"
		echo "load_during=$(awk '{ s += $1; if ($1 > m) m = $1 } END { if (NR) printf "mean %.2f max %.2f (1-minute load average every 10 s)", s / NR, m }' "$d/load.txt")" >> "$meta"
		cp "$w/console.log" "$d/console.log" 2>/dev/null
		grep '^not ok' "$d/boot.tap" | grep -v 'kernel log clean' | sed 's/^/[bench]   /'
		runs+=("$meta" "$d/console.log" "$d/cpu.txt")
	done
	reports+=(--kernel "$k" "${runs[@]}")
done

t0=$SECONDS
args=(--json "$OUT" --timing "${timing[*]} total_before_report=$((SECONDS - t_start))")
[ -n "${README:-}" ] && args+=(--readme "$README")
BAD_RE=$BAD_RE python3 "$top/scripts/bench-report.py" "${args[@]}" "${reports[@]}" || rc=1
say "time: ${timing[*]}, report $((SECONDS - t0))s, total $((SECONDS - t_start))s"
[ $full = 1 ] || [ -n "${README:-}" ] ||
	say "(results/bench.json and the README table are written by a full run of this tree's modules only)"
exit $rc
