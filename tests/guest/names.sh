#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 6 --names file:@DATA@/names-partial.txt
# sim1: --lines 4 --names none
# devices: 2
# drivers: ours intree
# Line names: partly named and unnamed lines, a device without names, and two
# virtio GPIO devices in one guest.
. /tests/lib.sh

check "load the $GV_driver driver" gv_load || finish
i=0
while [ "$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)" -lt 2 ] && [ $i -lt $((STALL * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_eq "both virtio GPIO devices have a chip" 2 \
	"$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)"

for gen in 1 2; do
	use_gen $gen
	t="gpiod$gen:"
	a=$(gv_chip_lines 6)
	report $? "$t the 6-line device is listed"
	b=$(gv_chip_lines 4)
	report $? "$t the 4-line device is listed"

	bad=
	l=0
	for want in LED0 LED1 - BUTTON - RESET; do
		got=$(info_line "$a" $l)
		if [ "$want" = - ]; then
			echo "$got" | grep -q unnamed || bad="$bad $l"
		else
			echo "$got" | grep -q "\"$want\"" || bad="$bad $l"
		fi
		l=$((l + 1))
	done
	expect_eq "$t named and unnamed lines as the simulator gives them" "" "$bad"

	bad=
	for l in 0 1 2 3; do
		info_line "$b" $l | grep -q unnamed || bad="$bad $l"
	done
	expect_eq "$t a device without names shows every line unnamed" "" "$bad"
done

use_gen 2
g_get "$a" 0 >/dev/null && g_get "$b" 3 >/dev/null
report $? "both devices answer requests"
check "unload the $GV_driver driver" gv_unload
finish
