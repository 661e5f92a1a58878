#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# sim1: --lines 4096
# devices: 2
# kernels: 7.2
# drivers: ours
# timeout: 900
# Allocation failures in the driver, injected by the debug kernel
# (failslab, fail_page_alloc) into the allocations made with the module's
# code on the stack (the stack-trace filter: require-start/require-end),
# one at a time through /proc/self/fail-nth: first the number of such
# allocations an operation makes is counted, then each (or a sample of
# them) fails in turn. Every outcome must be a clean one: the operation
# succeeds or fails with an error, nothing hangs, the kernel log has no
# report, nothing leaks (kmemleak at the end), and the device works after.
# Operations: probe (bind), a multi-line get, a get that times out, an
# interrupt request, remove (unbind); and large buffers whose kmalloc
# fails, so that kvmalloc falls back to vmalloc (fail_page_alloc,
# min-order 3, on the device with 4096 lines): with CONFIG_DEBUG_SG a
# vmalloc buffer put in a scatterlist stops the boot.
. /tests/lib.sh

use_gen 2
FS=/sys/kernel/debug/failslab
FP=/sys/kernel/debug/fail_page_alloc
P=/sys/module/gpio_virtio/parameters/timeout_ms
DRV=/sys/bus/virtio/drivers/gpio-virtio
if [ ! -d $FS ] || [ ! -d $FP ]; then
	report 1 "the kernel has failslab and fail_page_alloc in debugfs"
	finish
fi
check "load the driver" gv_load || finish
i=0
while { ! chip=$(gv_chip_lines 8) || ! big=$(gv_chip_lines 4096); } && [ $i -lt $((STALL * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
report $? "both devices have a chip" "8 lines: '$chip', 4096 lines: '$big'"
dev_of() { basename "$(dirname "$(readlink -f "/sys/bus/virtio/devices/"*"/$1")")"; }
dev=$(dev_of "$chip")
bigdev=$(dev_of "$big")

# The module's code: from its .text to the next symbol of anything else.
KS=/tmp/kallsyms
cat /proc/kallsyms > $KS
tstart=$(cat /sys/module/gpio_virtio/sections/.text)
tlast=$(awk '$4 == "[gpio_virtio]" && $2 ~ /^[tT]$/ { print $1 }' $KS | sort | tail -n 1)
tend=$(awk -v l="$tlast" '$1 > l && $4 != "[gpio_virtio]" { print $1 }' $KS | sort | head -n 1)
# Nothing above it: the end of the module area (x86_64).
tend=${tend:-ffffffffff000000}
[ -n "$tlast" ] && [ "$tlast" != 0000000000000000 ]
report $? "the module's code range is known" "$tstart..0x$tend (last function at 0x$tlast)"
# gpiolib's own allocations (gpiochip_add_data_with_key) are not ours.
gstart=$(awk '$3 == "gpiochip_add_data_with_key" { print $1 }' $KS | head -n 1)
gend=$(awk -v s="$gstart" '$1 > s && $2 ~ /^[tT]$/ { print $1 }' $KS | sort | head -n 1)

# fi_on ATTR: failures of ATTR only through fail-nth, only with the module
# on the stack, whatever the gfp flags; no stack dump (it would read as a
# kernel report).
fi_on() {
	echo 0 > "$1/probability"
	echo 1 > "$1/verbose"
	echo N > "$1/ignore-gfp-wait"
	echo 32 > "$1/stacktrace-depth"
	echo "$tstart" > "$1/require-start"
	echo "0x$tend" > "$1/require-end"
	echo 0 > "$1/reject-start"
	echo 0 > "$1/reject-end"
}
# fi_off ATTR: no allocation of ATTR matches (an empty required range)
fi_off() {
	echo 1 > "$1/require-start"
	echo 1 > "$1/require-end"
}

# nth N PROGRAM [ARGS...]: run PROGRAM (tests/bin/failnth) with its N-th
# matching allocation failing; its output (both streams) in /tmp/o, its
# exit status in CRC; LEFT is 0 when the N-th allocation failed, else how
# many of the N were left. A shell command runs as: nth N sh -c 'CMD'.
nth() {
	failnth "$@" > /tmp/o 2>&1
	CRC=$?
	LEFT=$(sed -n 's/^left=//p' /tmp/o | tail -n 1)
	sed -i '/^left=/d' /tmp/o
}

# count PROGRAM [ARGS...]: how many matching allocations it makes
count() {
	nth 100000 "$@"
	echo $((100000 - ${LEFT:-100000}))
}

# sample T: the failure points tried out of T: the first 16, the last 16,
# and 16 spread between
sample() {
	awk -v t="$1" 'BEGIN {
		for (i = 1; i <= t; i++)
			if (i <= 16 || i > t - 16 || i % int((t + 15) / 16) == 0)
				print i
	}'
}

# oopsed: the kernel reported a bug (what follows would hang on its locks)
oopsed() { dmesg | grep -qE 'BUG:|Oops|kernel BUG|WARNING:'; }
# stop_if_oopsed WHAT: report it and end the suite there
stop_if_oopsed() {
	oopsed || return 0
	report 1 "$1: no kernel report" "$(dmesg | grep -m 2 -E 'BUG:|Oops|kernel BUG|WARNING:')"
	finish
}

# works N LINE: the chip with N lines reads the host's level on LINE
# (device 0's lines: the control port reaches its simulator only)
works() {
	_c=$(gv_chip_lines "$1") || return 1
	_i=0
	while [ ! -c "/dev/$_c" ] && [ $_i -lt 50 ]; do sleep 0.1; _i=$((_i + 1)); done
	hctl level "$2" 1 >/dev/null && [ "$(g_get "$_c" "$2" 2>/dev/null)" = 1 ] &&
		hctl level "$2" 0 >/dev/null && [ "$(g_get "$_c" "$2" 2>/dev/null)" = 0 ]
}
bound() { [ -e "/sys/bus/virtio/devices/$1/driver" ]; }
rebind() {
	bound "$1" && echo "$1" > $DRV/unbind
	echo "$1" > $DRV/bind && wait_chip
}

# fail-nth counts the points of every fault attribute that passes its own
# filter: every other one (fail_mempool_alloc, ...) matches nothing.
for a in /sys/kernel/debug/fail*; do
	[ -f "$a/require-start" ] && fi_off "$a"
done

# --- probe (failslab: the driver's allocations and what it calls)
fi_on $FS
fi_off $FP
echo "$dev" > $DRV/unbind
T=$(count sh -c "echo $dev > $DRV/bind")
bound "$dev" && works 8 0
report $? "probe: $T allocations counted; the device is bound and works"
[ "$T" -gt 0 ]
report $? "probe: the allocations of the module are seen ($T)"
bad= tried=0 refused=0 degraded=0
for n in $(sample "$T"); do
	step "probe, allocation $n of $T fails"
	bound "$dev" && echo "$dev" > $DRV/unbind
	nth "$n" sh -c "echo $dev > $DRV/bind"
	stop_if_oopsed "probe, allocation $n of $T failing"
	[ "$LEFT" = 0 ] || { bad="$bad $n:not-injected"; continue; }
	tried=$((tried + 1))
	if bound "$dev"; then
		# Bound in spite of it: the chip must work (names or
		# directions may be missing).
		works 8 1 || bad="$bad $n:bound-broken"
		degraded=$((degraded + 1))
	else
		refused=$((refused + 1))
	fi
	rebind "$dev" && works 8 0 || bad="$bad $n:no-rebind"
done
expect_eq "probe: $tried allocation failures, each a refused bind ($refused) or a working chip ($degraded); the device works after each" "" "$bad"
case_out "probe allocation failures" "$T allocations; $tried failed one at a time: $refused refused, $degraded bound and working"

chip=$(gv_chip_lines 8)
# --- a multi-line get
T=$(count gpioget --numeric -c "$chip" 0 1 2 3)
bad= tried=0 failed=0
hctl level 2 1 >/dev/null
for n in $(sample "$T"); do
	nth "$n" gpioget --numeric -c "$chip" 0 1 2 3
	stop_if_oopsed "multi-line get, allocation $n of $T failing"
	[ "$LEFT" = 0 ] || { bad="$bad $n:not-injected"; continue; }
	tried=$((tried + 1))
	if [ "$CRC" = 0 ]; then
		[ "$(cat /tmp/o)" = "0 0 1 0" ] || bad="$bad $n:wrong($(cat /tmp/o))"
	else
		failed=$((failed + 1))
		grep -q 'Cannot allocate memory' /tmp/o || bad="$bad $n:$(errname /tmp/o)"
	fi
	[ "$(g_get "$chip" 0 1 2 3 2>&1)" = "0 0 1 0" ] || bad="$bad $n:after"
done
[ "$T" -gt 0 ]
report $? "multi-line get: allocations of the module are seen ($T)"
expect_eq "multi-line get: $tried allocation failures, each the right values or ENOMEM ($failed); the next get works" "" "$bad"
hctl level 2 0 >/dev/null

# --- a get that times out: the slot left to the device is replaced
echo 300 > $P
hctl hang 6 1 >/dev/null
T=$(count gpioget --numeric -c "$chip" 6)
bad=
for n in $(seq 1 "$T"); do
	nth "$n" gpioget --numeric -c "$chip" 6
	stop_if_oopsed "timed-out get, allocation $n of $T failing"
	[ "$LEFT" = 0 ] || { bad="$bad $n:not-injected"; continue; }
	[ "$CRC" != 0 ] || bad="$bad $n:succeeded"
done
hctl hang 6 0 >/dev/null
echo 1000 > $P
i=0
while [ "$(g_get "$chip" 6 2>/dev/null)" != 0 ] && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
[ "$T" -gt 0 ] && [ -z "$bad" ] && [ "$(g_get "$chip" 0 1 2 3 4 5 6 7 2>&1)" = "0 0 0 0 0 0 0 0" ]
report $? "timed-out get: $T allocation failures, each an error; the lines work after the late replies" "$bad"

# --- an interrupt request (gpiomon), then an edge
# mon N: gpiomon for one rising edge on line 5, its N-th allocation failing;
# an edge is sent once the line's event buffer is queued. CRC, LEFT as nth.
mon() {
	hctl level 5 0 >/dev/null
	failnth "$1" gpiomon -n 1 -e rising -c "$chip" 5 > /tmp/o 2>&1 &
	_mp=$!
	_i=0
	while alive $_mp && [ "$(field masked "$(hctl get 5)")" != 0 ] && [ $_i -lt 100 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	alive $_mp && edge 5
	if wait_dead $_mp 100; then
		CRC=$WAIT_RC
	else
		CRC=hang
		kill -9 $_mp
		wait $_mp
	fi
	LEFT=$(sed -n 's/^left=//p' /tmp/o | tail -n 1)
}
mon 100000
T=$((100000 - ${LEFT:-100000}))
bad= tried=0 failed=0
for n in $(sample "$T"); do
	step "interrupt request, allocation $n of $T fails"
	mon "$n"
	stop_if_oopsed "interrupt request, allocation $n of $T failing"
	[ "$LEFT" = 0 ] || { bad="$bad $n:not-injected"; continue; }
	tried=$((tried + 1))
	if [ "$CRC" = 0 ]; then
		grep -q rising /tmp/o || bad="$bad $n:no-event"
	elif [ "$CRC" = hang ]; then
		bad="$bad $n:hang"
	else
		failed=$((failed + 1))
	fi
	mon 0
	[ "$CRC" = 0 ] && grep -q rising /tmp/o || bad="$bad $n:after"
done
[ "$T" -gt 0 ]
report $? "interrupt request: allocations of the module are seen ($T)"
expect_eq "interrupt request: $tried allocation failures, each an event or an error ($failed); the next request works" "" "$bad"

# --- remove (unbind), with an interrupt consumer
T=
bad=
n=1
while :; do
	step "remove, allocation $n fails"
	gpiomon -e rising -c "$chip" 5 > /dev/null 2>&1 &
	mp=$!
	wait_unmasked 5 >/dev/null 2>&1
	nth "$n" sh -c "echo $dev > $DRV/unbind"
	stop_if_oopsed "remove, allocation $n failing"
	bound "$dev" && bad="$bad $n:still-bound"
	kill -9 "$mp" 2>/dev/null
	wait "$mp" 2>/dev/null
	rebind "$dev" && works 8 0 || bad="$bad $n:no-rebind"
	chip=$(gv_chip_lines 8)
	[ "$LEFT" = 0 ] || { T=$((n - 1)); break; }
	n=$((n + 1))
	[ $n -le 64 ] || { bad="$bad more-than-64"; break; }
done
expect_eq "remove: ${T:-?} allocation failures, each a clean unbind; the device works after" "" "$bad"

# --- kvmalloc falling back to vmalloc: the large buffers of the
# 4096-line device (fail_page_alloc, order 3 and up, gpiolib's excluded)
fi_off $FS
fi_on $FP
echo 3 > $FP/min-order
if [ -n "$gstart" ] && [ -n "$gend" ]; then
	echo "0x$gstart" > $FP/reject-start
	echo "0x$gend" > $FP/reject-end
fi
echo "$bigdev" > $DRV/unbind
T=$(count sh -c "echo $bigdev > $DRV/bind")
bound "$bigdev" && [ -n "$(gv_chip_lines 4096)" ]
report $? "large buffers: $T allocations of order 3 and up; the device is bound"
bad=
for n in $(seq 1 "$T"); do
	step "large buffers: allocation $n of $T fails (kvmalloc falls back to vmalloc)"
	echo "$bigdev" > $DRV/unbind
	nth "$n" sh -c "echo $bigdev > $DRV/bind"
	stop_if_oopsed "large buffers, allocation $n of $T failing (kvmalloc falls back to vmalloc)"
	[ "$LEFT" = 0 ] || { bad="$bad $n:not-injected"; continue; }
	bound "$bigdev" && c=$(gv_chip_lines 4096) &&
		[ "$(g_get "$c" 4095 2>&1)" = 0 ] || bad="$bad $n:not-working"
done
expect_eq "large buffers: $T kmalloc failures, each fell back and the chip works" "" "$bad"
fi_off $FP
echo 0 > $FP/min-order

check "unload the driver" gv_unload
finish
