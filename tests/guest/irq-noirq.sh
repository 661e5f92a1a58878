#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8 --no-irq
# drivers: ours intree
# timeout: 180
# A device without VIRTIO_GPIO_F_IRQ: the chip works without interrupts, the
# log says once why, and interrupt requests fail cleanly.
. /tests/lib.sh
. /tests/irq-common.sh

use_gen 2
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)

hctl level 2 1 >/dev/null
a=$(g_get "$chip" 2)
hctl level 2 0 >/dev/null
b=$(g_get "$chip" 2)
expect_eq "no F_IRQ: gpioget reads the input levels" "1 0" "$a $b"
g_hold "$chip" 3=1
wait_out 3 1
r=$(hctl get 3)
g_release
expect_eq "no F_IRQ: gpioset drives an output" "out 1" "$(field dir "$r") $(field value "$r")"

msg=$(dmesg | grep -E 'gpio[-_]virtio' | grep -iE 'interrupt|F_IRQ|irq')
say "log: $msg"
xfail_peer "says nothing about the missing interrupt feature"
expect_eq "no F_IRQ: one log line says why there are no interrupts" 1 \
	"$(echo "$msg" | grep -c .)"

# Without F_IRQ the device answers an interrupt message ERR and counts it in
# the line's errors (the only requests the interrupt attempts below may
# fail); the line's other requests (its direction) succeed.
e4=$(field errors "$(hctl stats 4)")
for gen in 1 2; do
	use_gen $gen
	if [ $gen = 1 ]; then
		timeout 15 gpiomon -n 1 "$chip" 4 > /tmp/mon.out 2>&1
	else
		timeout 15 gpiomon -n 1 -c "$chip" 4 > /tmp/mon.out 2>&1
	fi
	st=$?
	say "gpiod$gen gpiomon: exit $st: $(head -n 1 /tmp/mon.out)"
	[ $st != 0 ] && [ $st != 124 ] && [ -s /tmp/mon.out ]
	report $? "no F_IRQ: gpiod$gen gpiomon fails at once with an error message" \
		"exit $st: $(head -n 1 /tmp/mon.out)"
done
use_gen 2

out=$(irqt_load "$chip" 4 rising 2>&1)
st=$?
[ $st = 0 ] && irqt_unload
[ $st != 0 ]
report $? "no F_IRQ: a kernel interrupt request for a line fails" "$out"
r=$(hctl stats 4)
expect_eq "no F_IRQ: the driver sent no interrupt message for line 4 (the device answered no request of it ERR)" \
	0 "$(( $(field errors "$r") - e4 ))" "$r"

hctl level 5 1 >/dev/null
expect_eq "no F_IRQ: the chip still works after the failed requests" 1 "$(g_get "$chip" 5)"
check "unload the $GV_driver driver" gv_unload
finish
