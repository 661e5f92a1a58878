#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 4 --names-size 0xffffffff
# sim1: --lines 4 --names-raw @DATA@/names-dup.bin
# devices: 2
# drivers: ours
# A device that lies: an impossible names size, repeated names and a names
# block without its final NUL. A bad names block costs the names, never the
# chip; nothing oopses.
. /tests/lib.sh

insmod "$(gv_module)"
report $? "the module loads"
# Both devices get a chip.
i=0
while [ "$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)" -lt 2 ] &&
	[ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
n=$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)
expect_eq "both devices get a chip, the one with a names size of 0xffffffff too" 2 "$n"
dmesg | grep -i 'gpio' | grep -iE 'names|size' > /tmp/msgs
cat /tmp/msgs
grep -qE 'names block of 4294967295 bytes.*unnamed' /tmp/msgs
report $? "the impossible names size is reported in the log, once" "$(cat /tmp/msgs)"

use_gen 2
# Which chip is which: the second device names line 1 "B" (no line of the
# first is named). Not $c: lib.sh's helpers use it.
bare= named=
for d in /sys/bus/virtio/devices/*/gpiochip*; do
	i=0
	while [ ! -c "/dev/$(basename "$d")" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if gpioinfo -c "$(basename "$d")" | grep -q '"[A-C]"'; then
		named=$(basename "$d")
	else
		bare=$(basename "$d")
	fi
done
expect_eq "the chip without names has only unnamed lines" 4 \
	"$(gpioinfo -c "$bare" | grep -cE '^[[:space:]]+line +[0-9]+:[[:space:]]+unnamed')"
g_get "$bare" 0 >/dev/null
report $? "the chip without names works"
[ -n "$named" ]
report $? "the chip with partly bad names shows its valid names" "$(gpioinfo 2>&1)"
info=$(gpioinfo -c "$named")
echo "$info"
echo "$info" | grep -E '^[[:space:]]+line +1:' | grep -q '"B"'
report $? "a valid name is kept"
# Names the device repeats are passed on as they are (gpiolib takes them
# within a chip), and a lookup by name finds the first line with it.
expect_eq "a repeated name is kept on both lines (0 and 2)" "0 2" \
	"$(echo "$info" | awk '/"A"/ { sub(":", "", $2); printf "%s%s", s, $2; s = " " }')"
expect_eq "a lookup by the repeated name finds the first line" "0" \
	"$(gpioinfo -c "$named" A 2>&1 | awk 'NR == 1 { print $2 }')"
echo "$info" | grep -E '^[[:space:]]+line +3:' | grep -q unnamed
report $? "a name without its final NUL is dropped"
g_get "$named" 0 >/dev/null
report $? "the chip with bad names works"
check "unload" gv_unload
finish
