#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# sim1: --lines 4 --loop 0:1
# devices: 2
# drivers: ours intree
# timeout: 240
# Two virtio GPIO devices in one guest both deliver interrupts, at the same
# time; unbinding one while gpiomon waits on it ends that gpiomon with an
# error and leaves the other device working.
. /tests/lib.sh
. /tests/irq-common.sh

use_gen 2
check "load the $GV_driver driver" gv_load || finish
i=0
while [ $i -lt 50 ] && ! chip1=$(gv_chip_lines 4); do sleep 0.1; i=$((i + 1)); done
chip0=$(gv_chip_lines 8)
[ -n "$chip0" ] && [ -n "$chip1" ] && [ "$chip0" != "$chip1" ]
report $? "two chips: 8 lines ('$chip0') and 4 lines ('$chip1')"

# mon0 N: gpiomon counts N rising edges on device 0's line 2 (background)
mon0() {
	timeout 60 sh -c ". /tests/lib.sh; use_gen 2; g_mon $chip0 rising $1 2" \
		> /tmp/ev0 2>&1 &
	mpid0=$!
}

# mon1 N: gpiomon counts N rising edges on device 1's line 1 (background)
mon1() {
	timeout 60 sh -c ". /tests/lib.sh; use_gen 2; g_mon $chip1 rising $1 1" \
		> /tmp/ev1 2>&1 &
	mpid1=$!
}

# toggle1 N: N rising edges on device 1's line 1 through the loop wiring
toggle1() {
	_n=0
	g_set "$chip1" 0=0
	while [ $_n -lt "$1" ]; do
		g_set "$chip1" 0=1
		g_set "$chip1" 0=0
		_n=$((_n + 1))
	done
}

hctl level 2 0 >/dev/null
mon0 20
wait_unmasked 2 >/dev/null
# Paced for gpiomon (gpiolib-cdev keeps 16 events per line).
pulse_paced 2 20 2000 /tmp/ev0 1 $STALL
wait $mpid0
expect_eq "device 0: gpiomon counts 20 rising edges" 20 "$(grep -c ' rising$' /tmp/ev0)"

if [ "$GV_driver" = intree ]; then
	# Measured on 6.12: the peer's irq_chip is one static structure for all
	# devices; gpiolib's enable hook for the second device is NULL, and its
	# first interrupt request oopses in irq_enable(). Not run: an oops ends
	# the boot.
	for d in "device 1: gpiomon counts 10 rising edges from the loop wiring" \
		"both devices at once: 30 events on device 0" \
		"both devices at once: 10 events on device 1" \
		"unbind device 1 while gpiomon waits on it: gpiomon exits with an error" \
		"device 0 still delivers interrupts after device 1 is unbound" \
		"device 1 delivers interrupts again after bind"; do
		xfail_peer "one irq_chip shared by all devices: an interrupt on the second device oopses (not run)"
		report 1 "$d"
	done
	check "unload the $GV_driver driver" gv_unload
	finish
fi

mon1 10
wait_used "$chip1" 1
toggle1 10
wait_dead $mpid1 100 || stop_mon
expect_eq "device 1: gpiomon counts 10 rising edges from the loop wiring" 10 \
	"$(grep -c ' rising$' /tmp/ev1)"

mon0 30
mon1 10
wait_unmasked 2 >/dev/null
wait_used "$chip1" 1
pulse_paced 2 30 2000 /tmp/ev0 1 $STALL &
ppid=$!
toggle1 10
wait $ppid
wait_dead $mpid0 100 || stop_mon
wait_dead $mpid1 100 || stop_mon
expect_eq "both devices at once: 30 events on device 0" 30 "$(grep -c ' rising$' /tmp/ev0)"
expect_eq "both devices at once: 10 events on device 1" 10 "$(grep -c ' rising$' /tmp/ev1)"

# Unbind device 1 while gpiomon waits on it.
dev1=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/"$chip1")")")
drvdir=$(readlink -f "/sys/bus/virtio/devices/$dev1/driver")
if old_gpiolib; then
	check "unbind device 1" sysfs_write "$drvdir/unbind" "$dev1"
	skip "unbind device 1 while gpiomon waits on it: gpiomon exits with an error" \
		"before 6.7 gpiolib-cdev keeps a removed chip's line interrupts (warns in remove_proc_entry) and never wakes gpiomon"
else
	timeout 60 sh -c ". /tests/lib.sh; use_gen 2; gpiomon -c $chip1 1; echo st=\$?" \
		> /tmp/ev1 2>&1 &
	mpid1=$!
	wait_used "$chip1" 1
	check "unbind device 1 with gpiomon waiting on it" sysfs_write "$drvdir/unbind" "$dev1"
	wait_dead $mpid1 100
	st=$?
	[ $st = 0 ] || stop_mon
	say "gpiomon after unbind: $(tr '\n' ' ' < /tmp/ev1)"
	[ $st = 0 ] && grep -q '^st=[1-9]' /tmp/ev1
	report $? "unbind device 1 while gpiomon waits on it: gpiomon exits with an error" \
		"$(tr '\n' ' ' < /tmp/ev1)"
fi

mon0 5
wait_unmasked 2 >/dev/null
pulse_paced 2 5 2000 /tmp/ev0 1 $STALL
wait $mpid0
expect_eq "device 0 still delivers interrupts after device 1 is unbound" 5 \
	"$(grep -c ' rising$' /tmp/ev0)"

check "bind device 1 again" sysfs_write "$drvdir/bind" "$dev1"
i=0
while [ $i -lt 50 ] && ! chip1=$(gv_chip_lines 4); do sleep 0.1; i=$((i + 1)); done
mon1 3
wait_used "$chip1" 1
toggle1 3
wait_dead $mpid1 100 || stop_mon
expect_eq "device 1 delivers interrupts again after bind" 3 "$(grep -c ' rising$' /tmp/ev1)"

check "unload the $GV_driver driver" gv_unload
finish
