#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# sim1: --lines 0 --allow-zero-lines
# sim2: --lines 5 --names-size 16
# sim3: --lines 6 --names-fault non-ascii
# devices: 4
# drivers: ours
# timeout: 300
# Paths no other suite reaches: a device with no lines, GET_LINE_NAMES
# answered ERR, names that are not printable, timeout_ms=0 (a wait that only
# the reply or a signal ends), out-of-range values from the single-line and
# the multi-line get, SET_VALUE refused inside direction_output.
. /tests/lib.sh

use_gen 2
P=/sys/module/gpio_virtio/parameters/timeout_ms
check "load the driver" gv_load || finish

# Three chips (8, 5 and 6 lines); the device with no lines has none.
i=0
while [ "$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)" -lt 3 ] &&
	[ $i -lt $((STALL * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
chip=$(gv_chip_lines 8)
c5=$(gv_chip_lines 5)
c6=$(gv_chip_lines 6)
[ -n "$chip" ] && [ -n "$c5" ] && [ -n "$c6" ]
report $? "the devices with 8, 5 and 6 lines have a chip" "'$chip' '$c5' '$c6'"

# --- ngpio 0
zero=
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device" 2>/dev/null)" = 0x0029 ] || continue
	ls -d "$d"/gpiochip* >/dev/null 2>&1 && continue
	zero=$(basename "$d")
done
[ -n "$zero" ] && [ ! -e "/sys/bus/virtio/devices/$zero/driver" ]
report $? "a device with no lines gets no chip and stays unbound" "device '${zero:-none without a chip}'"
dmesg | grep -q "$zero: the device has no GPIO lines"
report $? "the refusal is logged: 'the device has no GPIO lines'" "$(dmesg | grep -i 'no GPIO lines' | tail -n 1)"
if [ -n "$zero" ]; then
	echo "$zero" > /sys/bus/virtio/drivers/gpio-virtio/bind 2>/tmp/bind.err
	st=$?
	[ $st != 0 ] && [ ! -e "/sys/bus/virtio/devices/$zero/driver" ]
	report $? "binding it by hand fails too" "exit $st: $(cat /tmp/bind.err)"
fi

# --- GET_LINE_NAMES answered ERR (the 5-line device reports a names size
# its block does not have): the lines are unnamed, the chip works.
if [ -n "$c5" ]; then
	n=$(gpioinfo -c "$c5" | grep -c unnamed)
	expect_eq "GET_LINE_NAMES answered ERR: all 5 lines are unnamed" 5 "$n"
	dmesg | grep -q 'cannot read line names (-5): lines are unnamed'
	report $? "GET_LINE_NAMES answered ERR: logged as EIO" "$(dmesg | grep -i 'line names' | tail -n 2)"
	expect_eq "GET_LINE_NAMES answered ERR: the chip's lines read" 0 "$(g_get "$c5" 4 2>&1)"
fi

# --- names with bytes outside 7-bit printable ASCII: those lines are
# unnamed, the chip works.
if [ -n "$c6" ]; then
	n=$(gpioinfo -c "$c6" | grep -c unnamed)
	expect_eq "non-ASCII names: all 6 lines are unnamed" 6 "$n" "$(gpioinfo -c "$c6" | head -n 3)"
	dmesg | grep -q 'line names: 6 invalid'
	report $? "non-ASCII names: one warning counts them" "$(dmesg | grep 'line names' | tail -n 2)"
	expect_eq "non-ASCII names: the chip's lines read" 0 "$(g_get "$c6" 5 2>&1)"
fi

# --- timeout_ms=0: no deadline; the reply ends the wait, however late,
# and so does SIGKILL.
echo 0 > $P
hctl level 3 1 >/dev/null
hctl hang 3 1 >/dev/null
bg_start /tmp/o gpioget --numeric -c "$chip" 3
pid=$BG_PID
# Past the default bound (1000 ms) and then some: still waiting.
if wait_dead "$pid" 25; then
	report 1 "timeout_ms=0: a request without a reply is still waiting after 2.5 s" \
		"it ended after $(($(now_ms) - BG_T0)) ms: $(cat /tmp/o)"
else
	report 0 "timeout_ms=0: a request without a reply is still waiting after 2.5 s"
fi
t0=$(now_ms)
hctl hang 3 0 >/dev/null
bg_wait 5
end=$((BG_T0 + MS))
[ "$RC" = 0 ] && [ "$(cat /tmp/o)" = 1 ] && [ $((end - t0)) -lt 2000 ]
report $? "timeout_ms=0: the late reply ends the wait with its value ($((end - t0)) ms after it was sent)" \
	"$(outcome)"

hctl hang 3 1 >/dev/null
bg_start /tmp/o gpioget --numeric -c "$chip" 3
pid=$BG_PID
# The request is on its way once the device holds it.
i=0
while [ "$(field inflight "$(hctl stats)")" = 0 ] && [ $i -lt 100 ]; do
	sleep 0.05
	i=$((i + 1))
done
sleep 0.2
t0=$(now_ms)
kill -9 "$pid"
wait_dead "$pid" 30
st=$?
ms=$(($(now_ms) - t0))
[ $st = 0 ] && [ $ms -lt 1500 ]
report $? "timeout_ms=0: SIGKILL ends the wait (${ms} ms)" "state $(pstate "$pid")"
hctl hang 3 0 >/dev/null
# The late reply lands in memory the driver still owns; the line works.
get_until "$chip" 3 1 20
expect_eq "timeout_ms=0: the line works after the late reply" 1 "$(g_get "$chip" 3 2>&1)"
echo 5000 > $P

# --- a value out of range (2) in a GET_VALUE reply: EPROTO at once, not a
# timeout (the bound is 5000 ms now), for a read of one line and of four
# (both through get_multiple), and an error from the single-line get; the
# next read is right.
hctl level 2 1 >/dev/null
hctl fault value,line=2,req=get-value,count=1,arg=2 >/dev/null
bounded 10 /tmp/o gpioget --numeric -c "$chip" 2
[ "$RC" != 0 ] && [ "$(errname /tmp/o)" = EPROTO ] && [ "$MS" -lt 2500 ]
report $? "one-line read, value 2 in the reply: EPROTO within 2.5 s" "$(outcome)"
hctl fault value,line=2,req=get-value,count=1,arg=2 >/dev/null
bounded 10 /tmp/o gpioget --numeric -c "$chip" 0 1 2 3
[ "$RC" != 0 ] && [ "$(errname /tmp/o)" = EPROTO ] && [ "$MS" -lt 2500 ]
report $? "four-line read, value 2 in one reply: EPROTO within 2.5 s" "$(outcome)"
hctl fault clear >/dev/null
expect_eq "the line reads right afterwards" 1 "$(g_get "$chip" 2 2>&1)"
# The character device reads through get_multiple, also for one line;
# gpiolib's own reads (sysfs, kernel consumers) use the single-line get: a
# read of the sysfs interface's value fails with the driver's error.
vdev= base= g=
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d/$chip" ] && vdev=$d
done
for d in "$vdev"/gpio/gpiochip* "$vdev/$chip"/gpio/gpiochip*; do
	[ -r "$d/base" ] && base=$(cat "$d/base")
done
t="single-line get (the sysfs interface), value 2 in the reply: EPROTO"
if [ -w /sys/class/gpio/export ] && [ -n "$base" ]; then
	before=" "
	for n in /sys/class/gpio/*; do before="$before${n##*/} "; done
	echo $((base + 2)) > /sys/class/gpio/export
	for n in /sys/class/gpio/*; do
		case "$before" in *" ${n##*/} "*) ;; *) g=$n ;; esac
	done
	# An exported line has no direction at the device until one is set.
	echo in > "$g/direction"
	hctl fault value,line=2,req=get-value,count=1,arg=2 >/dev/null
	# One read(2) (busybox cat tries sendfile first, then reads again).
	v=$(dd if="$g/value" bs=64 count=1 2>&1)
	rc=$?
	left=$(hctl fault list)
	hctl fault clear >/dev/null
	[ $rc != 0 ] && case "$v" in *"Protocol error"*) true ;; *) false ;; esac &&
		[ "${left%% *}" = 0 ]
	report $? "$t" "node ${g:-none}: exit $rc, '$v'; faults left: $left"
	expect_eq "the sysfs value reads right afterwards" 1 "$(cat "$g/value" 2>&1)"
	# A sysfs write is gpiolib's single-line set (the character device
	# sets through set_multiple).
	echo low > "$g/direction"
	echo 1 > "$g/value"
	r=$(hctl get 2)
	expect_eq "a sysfs write reaches the device through the single-line set" \
		"out 1" "$(field dir "$r") $(field value "$r")" "$r"
	# gpiolib's debugfs file shows the driver's own view of the lines in
	# use (cached state: no request reaches the device).
	q0=$(field requests "$(hctl stats)")
	d=$(cat /sys/kernel/debug/gpio 2>&1)
	q1=$(field requests "$(hctl stats)")
	echo "$d" | grep -q '^ line 2: dir 1 value 1 held 1 ' && [ "$q0" = "$q1" ]
	report $? "debugfs shows the exported output line (line 2: dir 1 value 1 held 1), no device request" \
		"requests $q0 -> $q1; $(echo "$d" | grep -A 3 "$chip" | tr '\n' ';')"
	echo $((base + 2)) > /sys/class/gpio/unexport
else
	skip "$t" "no /sys/class/gpio/export (CONFIG_GPIO_SYSFS) or no base for $chip"
fi

# --- SET_VALUE refused while a line becomes an output: the request fails
# with EIO, the next request works. (Whether SET_DIRECTION OUT went to the
# device meanwhile, driving the old value, cannot be seen here: the release
# sets the line to NONE, and the simulator keeps no history.)
hctl fault status,line=4,req=set-value,count=1,arg=1 >/dev/null
bounded 10 /tmp/o gpioset -t 0 -c "$chip" 4=1
[ "$RC" != 0 ] && [ "$(errname /tmp/o)" = EIO ] && [ "$MS" -lt 2500 ]
report $? "SET_VALUE answered ERR inside direction_output: EIO within 2.5 s" "$(outcome)"
hctl fault clear >/dev/null
g_hold "$chip" 4=1
wait_out 4 1
report $? "the line drives 1 on the next request"
g_release

echo 0 > $P
check "unload the driver (with timeout_ms=0)" gv_unload
finish
