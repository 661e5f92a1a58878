#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 64 --reset-mode forget
# sim1: --lines 64 --no-indirect --reset-mode forget
# sim2: --lines 1024 --reset-mode forget
# sim3: --lines 65535 --reset-mode forget
# devices: 4
# drivers: bench
# timeout: 1800
# Run by make bench (scripts/bench.sh), not as a suite of make test. Both
# drivers in this one boot, in passes: each pass loads one driver (ours, or
# the peer: the in-tree driver or the module given as PEER_KO), measures and
# unloads it, then the other, in the order the host drew for that pass
# (gv.bench_orderP). The figures are GV-BENCH lines:
#   GV-BENCH: pass=P drv=ours|peer metric=M [sweep=POLL_US] KEY=VALUE...
# (times in ns, memory in kB; the CPU keys are gvbench's, see its header).
# Devices: virtio0 64 lines (indirect descriptors offered), virtio1 64 lines
# without them, virtio2 1024 lines, virtio3 65535 lines. Automatic binding
# is off: each device is bound when its measurement needs it. The simulators
# forget the lines' state when a driver lets go of a device (--reset-mode
# forget), so that each driver starts from the same device.
# Metric groups (gv.bench_metrics):
#   single      get1, set1: one line, one ioctl, at least N and MIN_MS long
#   multi       get32, set32, get64, set64 on virtio0
#   noindirect  the same on virtio1 (no indirect descriptors)
#   latency     irq-loop: loopback (line 62 drives line 63 in the simulator),
#               set and wait for the event on the guest's clock; and
#               irq-latency: edge to event against the host's clock (offset
#               by round trips: an upper bound only)
#   irqcpu      irq-cpu: the CPU per interrupt at a fixed rate
#   rate        irq-rate-N: the lossless rate on 1, 8 and 32 lines
#   contention  get1, set1, irq-loop and irq-rate-1 again with a CPU hog
#               (gv.bench_hog processes spinning, default: the guest's CPUs)
#               as get1-hog, set1-hog, irq-loop-hog, irq-rate-1-hog
#   sweep       ours only: get1, set1, irq-loop, get1-hog, set1-hog for each
#               poll_us of gv.bench_sweepP (module parameter, written in
#               /sys/module/MOD/parameters/poll_us; the value is put back)
#   probe       binds of the 1024- and 65535-line devices
# Other settings (kernel command line, gv.bench_KEY=VALUE, lists with
# commas): n nmulti warm min_ms loop_n loop_gap lat_n lat_us irq_hz irq_s
# rate_s rate_k rate_bracket rate_start rate_max rate_lines hog
# probe_n probe_big_n passes orderP sweepP ours_params peer_params.
. /tests/lib.sh

B_metrics="single multi noindirect latency irqcpu rate contention sweep probe"
B_n=2000 B_nmulti=500 B_warm=100 B_min_ms=2000
B_loop_n=1000 B_loop_gap=1000 B_lat_n=200 B_lat_us=10000
B_irq_hz=100 B_irq_s=3
B_rate_s=2 B_rate_k=3 B_rate_bracket=5 B_rate_start=100 B_rate_max=50000
B_rate_lines="1 8 32"
B_hog=$(grep -c '^processor' /proc/cpuinfo)
# shellcheck disable=SC2034 # read through eval in sweep()
B_sweep="0 10 30 100"
B_probe_n=5 B_probe_big_n=2 B_passes=2
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	gv.bench_*=*) k=${arg%%=*}; k=${k#gv.bench_}; v=${arg#*=}
		case "$k" in
		*[!A-Za-z0-9_]*) echo "GV-LOG: ignored gv.bench_$k" ;;
		*) eval "B_$k=\$(echo \"\$v\" | tr , ' ')" ;;
		esac ;;
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
echo "GV-BENCH-GUEST: ncpu=$(grep -c '^processor' /proc/cpuinfo) hog=$B_hog clk_tck=$(getconf CLK_TCK 2>/dev/null || echo 100)"

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

# measure P L METRIC EXTRA DESCRIPTION [sim] -- GVBENCH-ARGS...: one
# gvbench run, its figures as a GV-BENCH line (EXTRA: more keys for it, or
# "-"); sim: the simulator's stats are read around it (device 0 only). With
# HOGN set (see hog), gvbench runs its hog beside the measurement. gvbench's
# progress and errors go to the console as they come.
HOGN=0
measure() {
	_p=$1 _l=$2 _m=$3 _x=$4 _d=$5 _sim=
	shift 5
	[ "$1" = sim ] && { _sim=1; shift; }
	[ "$1" = -- ] && shift
	[ "$_x" = - ] && _x=
	[ "$HOGN" -gt 0 ] && _d="$_d, $HOGN hog processes"
	step "pass $_p $_l: $_d"
	uptime_ms
	_t0=$UPTIME_MS
	[ -n "$_sim" ] && hctl reset-stats > /dev/null
	if ! r=$(GVB_HOG=$HOGN gvbench "$@"); then
		report 1 "pass $_p $_l: $_d" "gvbench $1 failed (its message is above)"
		return 1
	fi
	[ -n "$_sim" ] && r="$r $(svc_stats)"
	uptime_ms
	bench "pass=$_p drv=$_l metric=$_m${_x:+ $_x} $r elapsed_ms=$((UPTIME_MS - _t0))"
}

# hog COMMAND...: the command's measurements with B_hog spinning processes
hog() {
	HOGN=$B_hog
	"$@"
	HOGN=0
}

# ops P L METRIC CHIP get|set LINES N [EXTRA]: time N operations (at least
# min_ms long)
ops() {
	measure "$1" "$2" "$3" "${8:--}" "$3${8:+ ($8)}" sim -- \
		ops "$4" "$5" "$6" "$7" "$B_warm" "$B_min_ms"
}

# loopback P L METRIC [EXTRA]
loopback() {
	measure "$1" "$2" "$3" "${4:--}" "$3${4:+ ($4)}: $B_loop_n loopback round trips" -- \
		loop "$chip0" 62 63 "$B_loop_n" "$B_loop_gap"
}

# rate P L METRIC N [EXTRA]: the lossless rate on N lines
rate() {
	case "$4" in
	1) _set=41 ;;
	8) _set=48,49,50,51,52,53,54,55 ;;
	*) _set=$(seq -s, 8 $((8 + $4 - 1))) ;;
	esac
	measure "$1" "$2" "$3" "${5:--}" "$3: lossless interrupt rate on $4 line(s)" -- \
		rate "$chip0" "$_set" "$B_rate_start" "$B_rate_max" "$B_rate_s" \
		"$B_rate_k" "$B_rate_bracket"
}

# sweep P: ours with each poll_us of this pass's order, then the value
# it had put back
sweep() {
	_pf=/sys/module/$MOD/parameters/poll_us
	if [ ! -w "$_pf" ]; then
		bench "pass=$1 drv=ours metric=sweep-none reason=no_poll_us_parameter"
		return
	fi
	_orig=$(cat "$_pf")
	eval "_order=\${B_sweep$1:-\$B_sweep}"
	for v in $_order; do
		if ! echo "$v" > "$_pf" || [ "$(cat "$_pf")" != "$v" ]; then
			report 1 "pass $1 ours: poll_us=$v" "the parameter reads $(cat "$_pf")"
			continue
		fi
		ops "$1" ours get1 "$chip0" get 1 "$B_n" "sweep=$v"
		ops "$1" ours set1 "$chip0" set 1 "$B_n" "sweep=$v"
		loopback "$1" ours irq-loop "sweep=$v"
		hog ops "$1" ours get1-hog "$chip0" get 1 "$B_n" "sweep=$v"
		hog ops "$1" ours set1-hog "$chip0" set 1 "$B_n" "sweep=$v"
	done
	echo "$_orig" > "$_pf"
	expect_eq "pass $1 ours: poll_us put back after the sweep" "$_orig" "$(cat "$_pf")"
}

# phase PASS LABEL: everything measured with one driver
phase() {
	p=$1 l=$2 chip0=
	uptime_ms
	_phase0=$UPTIME_MS
	step "pass $p: load $l"
	if ! load "$l" 2>/tmp/err; then
		report 1 "pass $p: load the $l driver" "$(cat /tmp/err)"
		return
	fi
	_pv=-
	[ -r "/sys/module/$MOD/parameters/poll_us" ] && _pv=$(cat "/sys/module/$MOD/parameters/poll_us")
	bench "pass=$p drv=$l metric=module name=$MOD driver=$(basename "$DRV") poll_us=$_pv"
	if want single || want multi || want latency || want irqcpu || want rate ||
		want contention || want sweep; then
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
			ops "$p" "$l" get1 "$chip0" get 1 "$B_n"
			ops "$p" "$l" set1 "$chip0" set 1 "$B_n"
		fi
		if want multi; then
			for k in 32 64; do
				ops "$p" "$l" "get$k" "$chip0" get "$k" "$B_nmulti"
				ops "$p" "$l" "set$k" "$chip0" set "$k" "$B_nmulti"
			done
		fi
		if want latency; then
			loopback "$p" "$l" irq-loop
			measure "$p" "$l" irq-latency - \
				"interrupt latency against the host's clock, $B_lat_n edges ${B_lat_us} us apart" -- \
				latency "$chip0" 40 "$B_lat_n" "$B_lat_us"
		fi
		if want irqcpu; then
			measure "$p" "$l" irq-cpu - "CPU per interrupt, $B_irq_hz Hz for $B_irq_s s" -- \
				irqcpu "$chip0" 41 "$B_irq_hz" "$B_irq_s"
		fi
		if want rate; then
			for n in $B_rate_lines; do
				rate "$p" "$l" "irq-rate-$n" "$n"
			done
		fi
		if want contention; then
			hog ops "$p" "$l" get1-hog "$chip0" get 1 "$B_n"
			hog ops "$p" "$l" set1-hog "$chip0" set 1 "$B_n"
			hog loopback "$p" "$l" irq-loop-hog
			hog rate "$p" "$l" irq-rate-1-hog 1
		fi
		want sweep && [ "$l" = ours ] && sweep "$p"
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
	uptime_ms
	bench "pass=$p drv=$l metric=phase elapsed_ms=$((UPTIME_MS - _phase0))"
}

# probe P L DEV LINES TIMES: bind and unbind DEV TIMES times, timing the
# bind and taking the memory it added (the kernel's messages of a failed
# bind are kept)
probe() {
	_k=0
	while [ $_k -lt "$5" ]; do
		_k=$((_k + 1))
		step "pass $1 $2: bind the $4-line device ($_k of $5)"
		uptime_ms
		_t0=$UPTIME_MS
		echo "GV-BENCH-EXPECT-BEGIN: $2 probe-$4"
		_d0=$(dmesg | wc -l)
		r=$(gvbench bind "$DRV" "$3")
		_c=$(chip_of "$3") && _c="chip=$_c lines=$(gvbench lines "$_c")" || _c="chip=none"
		echo "GV-BENCH-EXPECT-END: $2 probe-$4"
		uptime_ms
		bench "pass=$1 drv=$2 metric=probe-$4 try=$_k $r $_c elapsed_ms=$((UPTIME_MS - _t0))"
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

pass=1
while [ $pass -le "$B_passes" ]; do
	eval "_order=\${B_order$pass:-}"
	[ -n "$_order" ] || { [ $((pass % 2)) = 1 ] && _order="peer ours" || _order="ours peer"; }
	echo "GV-BENCH-PASS: pass=$pass order=$(echo $_order | tr ' ' ,)"
	for l in $_order; do
		phase $pass "$l"
	done
	pass=$((pass + 1))
done
finish
