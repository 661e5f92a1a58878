#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 512 --fault status,line=all,req=get-dir,count=always,arg=1
# sim1: --lines 64 --fault drop,line=all,req=get-dir,count=always
# sim2: --lines 512 --names-fault padded:65536
# devices: 3
# drivers: ours
# timeout: 600
# What the driver promises where the other suites cannot see it (each case
# failed with the driver before these promises were kept):
# - direction_output sends SET_DIRECTION OUT only after SET_VALUE's reply: a
#   refused value leaves the line as it was, not an output at a stale level;
# - freeing a line's GPIO keeps it an input while its interrupt is in use;
# - an interrupt request fails when the line cannot be made an input;
# - enable_irq_wake() fails: nothing can wake the guest through the device;
# - a device that does not answer at probe costs timeout_ms once, not for
#   every line: the chip comes up with the directions unknown (NONE); one
#   that refuses to tell the
#   lines' directions costs one request per line at probe, not two (131062
#   requests and 636 s for 65535 lines);
# - the line names block is linear memory: with large allocations failing
#   (fail_page_alloc, the debug kernel), kvmalloc's vmalloc fallback would
#   reach a scatterlist (DEBUG_SG stops the boot); the lines come up unnamed.
. /tests/lib.sh
. /tests/irq-common.sh

use_gen 2
VBUS=/sys/bus/virtio
echo 0 > $VBUS/drivers_autoprobe
report $? "automatic binding of virtio devices is off"
insmod "$(gv_module)" timeout_ms=300
report $? "load the driver, timeout_ms=300"
DRV=$VBUS/drivers/gpio-virtio
devs=
for d in $VBUS/devices/virtio*; do
	[ "$(cat "$d/device")" = 0x0029 ] && devs="$devs ${d##*/}"
done
set -- $devs
expect_eq "three virtio GPIO devices" 3 $#
D0=$1 D1=$2 D2=$3

# bind DEV: bind it; BIND_RC its status, BIND_MS how long the write took
bind() {
	_t0=$(now_ms)
	echo "$1" > $DRV/bind 2>/dev/null
	BIND_RC=$?
	BIND_MS=$(($(now_ms) - _t0))
}

# chip_of DEV: the gpiochip of a bound device
chip_of() {
	for _c in $VBUS/devices/$1/gpiochip*; do
		[ -e "$_c" ] && { basename "$_c"; return 0; }
	done
	return 1
}

# --- device 0: 512 lines, every GET_DIRECTION answered ERR
t="a device that refuses to tell the directions"
hctl reset-stats >/dev/null
bind "$D0"
chip=$(chip_of "$D0")
expect_eq "$t: it comes up with 512 lines" "0 512" "$BIND_RC $(gvbench lines "$chip" 2>/dev/null)"
# GET_LINE_NAMES, then one GET_DIRECTION per line; the lines are inactive,
# so gpiolib's own question for each line as the chip is added costs none.
expect_eq "$t: 513 requests at probe" 513 "$(field requests "$(hctl stats)")"
gpioinfo -c "$chip" 0 255 511 > /tmp/o 2>&1
[ "$(grep -c input /tmp/o)" = 3 ]
report $? "$t: its lines show as inputs" "$(tr '\n' ' ' < /tmp/o)"

# A refused SET_VALUE: the line does not become an output.
t="direction_output, SET_VALUE refused"
# The device gets SET_VALUE (refused) and the release's SET_DIRECTION NONE,
# and never SET_DIRECTION OUT (the line's direction is known: nothing else).
n0=$(field requests "$(hctl stats 5)")
hctl fault status,line=5,req=set-value,count=1,arg=1 >/dev/null
gpioset -t 0 -c "$chip" 5=1 > /tmp/o 2>&1
rc=$?
n1=$(field requests "$(hctl stats 5)")
hctl fault clear >/dev/null
[ $rc != 0 ] && [ $((n1 - n0)) = 2 ] && [ "$(field dir "$(hctl get 5)")" = none ]
report $? "$t: gpioset fails, the line never was an output" \
	"status $rc, $((n1 - n0)) requests; $(cat /tmp/o)"
g_hold "$chip" 5=1
wait_out 5 1
report $? "$t: the next gpioset drives the line high" "$(hctl get 5)"
g_release

# A consumer of the interrupt alone (as a device-tree "interrupts" user):
# requesting and freeing the line's GPIO leaves the interrupt working.
t="an interrupt consumer without the GPIO"
hctl level 3 0 >/dev/null
check "$t: request line 3's interrupt (rising), the GPIO given back" \
	irqt_load "$chip" 3 rising keep_gpio=0
wait_unmasked 3 >/dev/null
hctl pulse 3 1 2000 >/dev/null
expect_eq "$t: one pulse, one interrupt" 1 "$(wait_count 1)"
g_get "$chip" 3 > /tmp/o 2>&1
report $? "$t: gpioget reads the line meanwhile" "$(cat /tmp/o)"
r=$(hctl get 3)
expect_eq "$t: after the GPIO was freed the device keeps it an input, rising" \
	"in rising" "$(field dir "$r") $(field irq "$r")"
wait_unmasked 3 >/dev/null
hctl pulse 3 2 2000 >/dev/null
expect_eq "$t: two more pulses, two more interrupts" 3 "$(wait_count 3)"

# enable_irq_wake(): the trigger types are off while the guest sleeps.
echo 1 > $IRQT/wake 2> /tmp/o
rc=$?
[ $rc != 0 ] && grep -q 'No such device or address' /tmp/o
report $? "enable_irq_wake() fails with ENXIO" "status $rc: $(cat /tmp/o)"
check "unload the test module" irqt_unload

# The line cannot be made an input: the interrupt request fails.
t="SET_DIRECTION IN refused at the interrupt request"
check "$t: line 6's GPIO given back, its interrupt not requested yet" \
	irqt_load "$chip" 6 rising keep_gpio=0 request=0
hctl fault status,line=6,req=set-dir,count=1,arg=1 >/dev/null
irqt_set requested 1 2> /tmp/o
rc=$?
r=$(hctl get 6)
hctl fault clear >/dev/null
[ $rc != 0 ] && [ "$(field irq "$r")" = none ]
report $? "$t: request_irq fails, the device has no trigger type" "status $rc; $r"
irqt_set requested 1
report $? "$t: the next request works"
check "unload the test module" irqt_unload

# --- device 1: GET_DIRECTION is never answered
t="a device that does not answer at probe"
bind "$D1"
c1=$(chip_of "$D1")
[ $BIND_RC = 0 ] && [ "$BIND_MS" -ge 250 ] && [ "$BIND_MS" -le 5000 ]
report $? "$t: the chip comes up in 250 to 5000 ms (timeout_ms 300)" \
	"status $BIND_RC in $BIND_MS ms"
dmesg | grep -q "64 lines' directions not read (-110): taken as NONE"
report $? "$t: the log says so, once"
gpioinfo -c "$c1" 0 63 > /tmp/o 2>&1
[ "$(grep -c input /tmp/o)" = 2 ]
report $? "$t: its lines show as inputs, at once" "$(tr '\n' ' ' < /tmp/o)"

# --- device 2: 512 lines, a names block padded to 64 KB: the only
# allocation of 64 KB or more under the module's code at probe (gpiolib's
# line descriptors for 512 lines are about 28 KB)
t="names block with large allocations failing"
FA=/sys/kernel/debug/fail_page_alloc
if [ -d $FA ] && [ -r /sys/module/gpio_virtio/sections/.text ]; then
	start=$(cat /sys/module/gpio_virtio/sections/.text)
	# Under the module's code an allocation of 64 KB or more (order 4)
	# fails: kvmalloc would fall back to vmalloc.
	echo "$start" > $FA/require-start
	printf '0x%x\n' $((start + 0x100000)) > $FA/require-end
	echo 4 > $FA/min-order
	echo N > $FA/ignore-gfp-wait
	echo -1 > $FA/times
	echo 100 > $FA/probability
	bind "$D2"
	echo 0 > $FA/probability
	c2=$(chip_of "$D2")
	[ $BIND_RC = 0 ] && [ "$(gvbench lines "$c2")" = 512 ]
	report $? "$t: the device comes up" "status $BIND_RC, $c2"
	dmesg | grep -q 'no memory for [0-9]* bytes of line names: lines are unnamed'
	report $? "$t: the names are given up, and the log says so"
else
	skip "$t" "no fail_page_alloc (only the debug kernel has it)"
fi

for d in $D0 $D1 $D2; do
	[ -e $VBUS/devices/$d/driver ] && echo "$d" > $DRV/unbind
done
check "unload the driver" gv_unload
echo 1 > $VBUS/drivers_autoprobe
finish
