#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 64 --reset-mode forget
# sim1: --lines 64 --no-indirect --reset-mode forget
# sim2: --lines 1024 --reset-mode forget
# sim3: --lines 65535 --reset-mode forget
# devices: 4
# drivers: bench
# timeout: 900
# Run by make bench (scripts/bench.sh), not by make test. Both drivers in
# this one boot, alternating: pass 1 loads the peer (the in-tree driver, or
# the module given as PEER_KO), measures and unloads it, then ours; pass 2
# the other way round, so that drift shows. The figures are GV-BENCH lines:
#   GV-BENCH: pass=P drv=ours|peer metric=M KEY=VALUE...
# (times in ns, memory in kB); pass=all: both passes' samples together.
# Devices: virtio0 64 lines (indirect descriptors offered), virtio1 64 lines
# without them, virtio2 1024 lines, virtio3 65535 lines. Automatic binding
# is off: each device is bound when its measurement needs it. The simulators
# forget the lines' state when a driver lets go of a device (--reset-mode
# forget), so that each driver starts from the same device.
# Settings come from the kernel command line (scripts/bench.sh):
#   gv.bench_metrics="single multi noindirect latency rate probe"
#   gv.bench_n (single-line operations), gv.bench_nmulti (32/64 lines),
#   gv.bench_warm, gv.bench_lat_n, gv.bench_lat_us, gv.bench_rate_s,
#   gv.bench_rate_start, gv.bench_rate_max, gv.bench_rate_refine,
#   gv.bench_probe_n (binds of the 1024-line device), gv.bench_probe_big_n,
#   gv.bench_passes (1 or 2), gv.bench_ours_params and gv.bench_peer_params
#   (module parameters, comma-separated: poll_us=20,timeout_ms=500)
. /tests/lib.sh

B_metrics="single multi noindirect latency rate probe"
B_n=2000 B_nmulti=500 B_warm=100 B_lat_n=1000 B_lat_us=10000
B_rate_s=5 B_rate_start=100 B_rate_max=50000 B_rate_refine=3
B_probe_n=5 B_probe_big_n=2 B_passes=2
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	gv.bench_*=*) k=${arg%%=*}; k=${k#gv.bench_}; v=${arg#*=}
		eval "B_$k=\$(echo \"\$v\" | tr , ' ')" ;;
	esac
done
want() { case " $B_metrics " in *" $1 "*) return 0 ;; esac; return 1; }

use_gen 2
VBUS=/sys/bus/virtio
S=/tmp/bench
mkdir -p $S

# bench LINE...: one result line for the host
bench() { echo "GV-BENCH: $*"; }

echo 0 > $VBUS/drivers_autoprobe
report $? "automatic binding of virtio devices is off"
i=0
for d in $VBUS/devices/virtio*; do
	[ "$(cat "$d/device")" = 0x0029 ] && i=$((i + 1))
done
expect_eq "four virtio GPIO devices" 4 "$i"
uname -r | sed 's/^/GV-BENCH-KERNEL: /'

# load LABEL: insmod the module of LABEL (ours or peer); sets MOD (module
# name) and DRV (its driver directory on the virtio bus)
load() {
	_before=$(ls $VBUS/drivers)
	_mods=$(cut -d' ' -f1 /proc/modules)
	# shellcheck disable=SC2046
	insmod "/modules/bench-$1.ko" $(eval echo "\${B_${1}_params:-}") || return 1
	MOD=
	for m in $(cut -d' ' -f1 /proc/modules); do
		echo "$_mods" | grep -qx "$m" || MOD=$m
	done
	DRV=
	for d in $(ls $VBUS/drivers); do
		echo "$_before" | grep -qx "$d" || DRV=$VBUS/drivers/$d
	done
	[ -n "$MOD" ] && [ -n "$DRV" ] || { echo "no new module or driver after insmod" >&2; return 1; }
}

# chip_of DEV: the gpiochip of a bound virtio device
chip_of() {
	for c in $VBUS/devices/$1/gpiochip*; do
		[ -e "$c" ] && { basename "$c"; return 0; }
	done
	return 1
}

# bindto DEV LINES [INDIRECT]: bind DEV, check it is the device meant (its
# line count, and whether indirect descriptors were negotiated); sets CHIP
# and BOUND (the figures of the bind). Not in a subshell: it sets variables.
bindto() {
	CHIP= BOUND=
	r=$(gvbench bind "$DRV" "$1") || return 1
	[ "$(field err "$r")" = 0 ] || { echo "binding $1: $r" >&2; return 1; }
	CHIP=$(chip_of "$1") || { echo "$1 bound without a gpiochip" >&2; return 1; }
	[ "$(gvbench lines "$CHIP")" = "$2" ] ||
		{ echo "$1 ($CHIP) has $(gvbench lines "$CHIP") lines, not $2" >&2; return 1; }
	if [ -n "${3:-}" ]; then
		# features: one character per bit; 28 is VIRTIO_RING_F_INDIRECT_DESC
		f=$(cut -c29 "$VBUS/devices/$1/features")
		[ "$f" = "$3" ] || { echo "$1: indirect descriptors '$f', expected $3" >&2; return 1; }
	fi
	BOUND=$r
}

unbind() {
	[ -e "$VBUS/devices/$1/driver" ] || return 0
	gvbench unbind "$DRV" "$1" > /dev/null
}

# svc_stats: the simulator's own service time since its last reset-stats
svc_stats() {
	r=$(hctl stats) || return 0
	echo "sim_requests=$(field requests "$r") sim_kicks=$(field kicks "$r")" \
		"sim_batch_max=$(field batch_max "$r")" \
		"svc_n=$(field svc_n "$r" || echo -) svc_total_ns=$(field svc_total_ns "$r" || echo -)" \
		"svc_max_ns=$(field svc_max_ns "$r" || echo -)"
}

# ops P L METRIC CHIP get|set LINES N [SIM]: time N operations; SIM: the
# simulator's stats are read around them (device 0 only)
ops() {
	_p=$1 _l=$2 _m=$3 _c=$4 _o=$5 _n=$6 _i=$7 _sim=${8:-}
	step "pass $_p $_l: $_m"
	[ -n "$_sim" ] && hctl reset-stats > /dev/null
	if ! r=$(gvbench ops "$_c" "$_o" "$_n" "$_i" "$B_warm" "$S/$_m.$_l.$_p"); then
		report 1 "pass $_p $_l: $_m" "$r"
		return
	fi
	[ -n "$_sim" ] && r="$r $(svc_stats)"
	bench "pass=$_p drv=$_l metric=$_m warm=$B_warm $r"
}

# phase PASS LABEL: everything measured with one driver
phase() {
	p=$1 l=$2 chip0=
	step "pass $p: load $l"
	if ! load "$l" 2>/tmp/err; then
		report 1 "pass $p: load the $l driver" "$(cat /tmp/err)"
		return
	fi
	bench "pass=$p drv=$l metric=module name=$MOD driver=$(basename "$DRV")"
	if want single || want multi || want latency || want rate; then
		if bindto virtio0 64 1 2>/tmp/err; then
			chip0=$CHIP
			bench "pass=$p drv=$l metric=probe-64 $BOUND"
		else
			report 1 "pass $p $l: bind the 64-line device" "$(cat /tmp/err)"
			chip0=
		fi
	fi
	if [ -n "${chip0:-}" ]; then
		if want single; then
			ops "$p" "$l" get1 "$chip0" get 1 "$B_n" sim
			ops "$p" "$l" set1 "$chip0" set 1 "$B_n" sim
		fi
		if want multi; then
			for k in 32 64; do
				ops "$p" "$l" "get$k" "$chip0" get "$k" "$B_nmulti" sim
				ops "$p" "$l" "set$k" "$chip0" set "$k" "$B_nmulti" sim
			done
		fi
		if want latency; then
			step "pass $p $l: interrupt latency, $B_lat_n edges ${B_lat_us} us apart"
			if r=$(gvbench latency "$chip0" 40 "$B_lat_n" "$B_lat_us" "$S/irq-latency.$l.$p" "$S/irq-latency-read.$l.$p"); then
				bench "pass=$p drv=$l metric=irq-latency $r"
			else
				report 1 "pass $p $l: interrupt latency" "$r"
			fi
		fi
		if want rate; then
			for set in 41 48,49,50,51,52,53,54,55; do
				n=$(echo "$set" | tr , '\n' | wc -l)
				step "pass $p $l: lossless interrupt rate on $n line(s)"
				if r=$(gvbench rate "$chip0" "$set" "$B_rate_start" "$B_rate_max" \
					"$B_rate_s" "$B_rate_refine"); then
					bench "pass=$p drv=$l metric=irq-rate-$n $r"
				else
					report 1 "pass $p $l: lossless interrupt rate on $n line(s)" "$r"
				fi
			done
		fi
	fi
	unbind virtio0
	if want noindirect; then
		if bindto virtio1 64 0 2>/tmp/err; then
			for k in 32 64; do
				ops "$p" "$l" "get$k-noind" "$CHIP" get "$k" "$B_nmulti"
				ops "$p" "$l" "set$k-noind" "$CHIP" set "$k" "$B_nmulti"
			done
		else
			report 1 "pass $p $l: bind the 64-line device without indirect descriptors" "$(cat /tmp/err)"
		fi
		unbind virtio1
	fi
	if want probe; then
		probe "$p" "$l" virtio2 1024 "$B_probe_n"
		probe "$p" "$l" virtio3 65535 "$B_probe_big_n"
	fi
	step "pass $p: unload $l"
	rmmod "$MOD"
	report $? "pass $p: unload the $l driver"
}

# probe P L DEV LINES TIMES: bind and unbind DEV TIMES times, timing the
# bind and taking the memory it added (the kernel's messages of a failed
# bind are kept)
probe() {
	_k=0
	while [ $_k -lt "$5" ]; do
		_k=$((_k + 1))
		step "pass $1 $2: bind the $4-line device ($_k of $5)"
		echo "GV-BENCH-EXPECT-BEGIN: $2 probe-$4"
		_d0=$(dmesg | wc -l)
		r=$(gvbench bind "$DRV" "$3")
		_c=$(chip_of "$3") && _c="chip=$_c lines=$(gvbench lines "$_c")" || _c="chip=none"
		echo "GV-BENCH-EXPECT-END: $2 probe-$4"
		bench "pass=$1 drv=$2 metric=probe-$4 try=$_k $r $_c"
		dmesg | sed -n "$((_d0 + 1)),\$p" | grep -iE 'gpio|virtio|warn|fail|error|alloc' |
			head -n 8 | sed "s/^/GV-BENCH-KLOG: pass=$1 drv=$2 metric=probe-$4 try=$_k /"
		[ -e "$VBUS/devices/$3/driver" ] || continue
		_u=$(gvbench unbind "$DRV" "$3" 2>&1) || _u="unbind failed: $_u"
		if [ -e "$VBUS/devices/$3/driver" ]; then
			report 1 "pass $1 $2: unbind the $4-line device" "$_u"
			return
		fi
		bench "pass=$1 drv=$2 metric=unbind-$4 try=$_k $_u"
	done
}

phase 1 peer
phase 1 ours
if [ "$B_passes" -ge 2 ]; then
	phase 2 ours
	phase 2 peer
fi

# Both passes' samples together
for f in $S/*.ours.1; do
	[ -e "$f" ] || continue
	m=$(basename "$f" .ours.1)
	for l in ours peer; do
		set -- $S/$m.$l.*
		[ -e "$1" ] && bench "pass=all drv=$l metric=$m $(gvbench stats "$@")"
	done
done
finish
