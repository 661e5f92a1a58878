#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# drivers: ours intree
# timeout: 400
# Load and unload cycles (the device alternately keeping and forgetting its
# line state across the reset, as real back ends keep it), unbind and bind
# with a line held, and suspend (the device keeps its state: the default of
# the simulator, and what vhost-user back ends do). state.sh covers both
# modes in depth.
. /tests/lib.sh

use_gen 2
CYCLES=50
bad=0
for i in $(seq $CYCLES); do
	if [ $((i % 2)) = 0 ]; then m=forget; else m=keep; fi
	# Every other pair of cycles the device answers a scan's requests in
	# a shuffled order (fifo), the probe's requests too.
	if [ $((i / 2 % 2)) = 0 ]; then b=latch; else b=fifo; fi
	hctl reset-mode $m >/dev/null || bad=$((bad + 1))
	hctl behaviour $b >/dev/null || bad=$((bad + 1))
	gv_load >/dev/null 2>&1 || { bad=$((bad + 1)); continue; }
	c=$(gv_chip)
	g_get "$c" 1 >/dev/null || bad=$((bad + 1))
	gv_unload || bad=$((bad + 1))
	[ $((i % 10)) = 0 ] && say "$i load/use/unload cycles, $bad wrong"
done
hctl reset-mode keep >/dev/null
hctl behaviour latch >/dev/null
expect_eq "$CYCLES load/use/unload cycles, keeping and forgetting devices, latching and queueing ones" 0 "$bad"
if [ "${GV_debug:-0}" = 1 ]; then
	# After the cycles, before the unbind with a line held below: 7.2's
	# gpiolib leaks a line's label when its chip goes while it is held
	# (desc_set_label, seen here with both drivers), which is not ours.
	# A kmemleak that disabled itself would find nothing.
	if kml=$(kmemleak_state) && kmemleak_scan; then
		leaks=$(kmemleak_report | grep -c '^unreferenced object')
		expect_eq "kmemleak finds no leak after $CYCLES cycles" 0 "$leaks"
		echo clear > "$KMEMLEAK"
	else
		report 1 "kmemleak finds no leak after $CYCLES cycles" "kmemleak is not active: $kml"
	fi
fi

check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)
drvdir=$(readlink -f /sys/bus/virtio/devices/*/driver | head -n 1)
dev=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/$chip)")")

g_hold "$chip" 3=1
wait_out 3 1
echo "$dev" > "$drvdir/unbind"
report $? "unbind while a line is held"
[ ! -e "/sys/bus/virtio/devices/$dev/$chip" ]
report $? "the chip is gone after unbind"
g_release
case "$(uname -r)" in
6.1.*)
	if [ "$GV_driver" = intree ]; then
		# Seen here: the peer's probe then oopses in gpio_name_to_desc()
		# (the unbound chip's line names are freed while gpiolib still
		# lists it). Not run, so that the rest of the suite runs.
		xfail_peer "6.1: bind after unbinding with a line held oopses in gpio_name_to_desc (not run)"
		report 1 "bind again"
		finish
	fi
	;;
esac
echo "$dev" > "$drvdir/bind"
report $? "bind again"
wait_chip
chip=$(gv_chip)
hctl level 2 1 >/dev/null
expect_eq "the chip works after bind" 1 "$(g_get "$chip" 2)"

# Suspend to idle with the PM core stopping after the device callbacks.
if [ -w /sys/power/pm_test ]; then
	g_hold "$chip" 4=1
	wait_out 4 1
	echo devices > /sys/power/pm_test
	echo freeze > /sys/power/state
	report $? "suspend (pm_test=devices, freeze) returns"
	echo none > /sys/power/pm_test
	r=$(hctl get 4)
	# The device keeps its state here, so the peer passes this one too.
	expect_eq "a held output keeps its value across suspend" "out 1" "$(field dir "$r") $(field value "$r")"
	# The peer may wait forever (uninterruptibly) after resume: never wait on
	# it without a bound.
	hctl level 2 1 >/dev/null
	(g_get "$chip" 2 > /tmp/after 2>&1; echo "rc=$?" >> /tmp/after) &
	i=0
	while ! grep -q '^rc=' /tmp/after 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	xfail_peer "no freeze/restore: the device is reset and not set up again"
	expect_eq "the chip works after resume" "1 rc=0" "$(tr '\n' ' ' < /tmp/after | sed 's/ $//')"
	# The peer's release would wait forever for a reply: leave its holder.
	[ "$GV_driver" = intree ] && finish
	g_release
else
	report 1 "suspend test needs /sys/power/pm_test"
fi

if [ "$GV_driver" = intree ]; then
	# The peer does not survive suspend; it may not unload cleanly either.
	finish
fi
case "$(uname -r)" in
6.1.*)
	# 6.1's gpiod_free() drops a line's module reference only while the
	# chip exists: the line held across the unbind above keeps the module
	# pinned for good (any module-owned GPIO driver, not ours). Nothing
	# else may hold it.
	expect_eq "6.1: the module holds only the reference gpiolib kept for the line held across unbind" \
		1 "$(cat /sys/module/gpio_virtio/refcnt)"
	skip "unload the $GV_driver driver" "6.1 gpiolib never drops the module reference of a line held across unbind"
	;;
*)
	check "unload the $GV_driver driver" gv_unload
	;;
esac
finish
