#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 4 --names-size 0xffffffff
# sim1: --lines 4 --names-raw @DATA@/names-dup.bin
# sim2: --lines 2 --names-raw @DATA@/names-trailing.bin
# devices: 3
# drivers: ours
# A device that lies: an impossible names size, repeated names, a names
# block without its final NUL and one with bytes after its last name. A bad
# names block costs the names, never the chip; nothing oopses.
. /tests/lib.sh

insmod "$(gv_module)"
report $? "the module loads"
# Every device gets a chip.
i=0
while [ "$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)" -lt 3 ] &&
	[ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
n=$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)
expect_eq "every device gets a chip, the one with a names size of 0xffffffff too" 3 "$n"
dmesg | grep -i 'gpio' | grep -iE 'names|size' > /tmp/msgs
cat /tmp/msgs
grep -qE 'names block of 4294967295 bytes.*unnamed' /tmp/msgs
report $? "the impossible names size is reported in the log, once" "$(cat /tmp/msgs)"

use_gen 2
# Which chip is which: the second device names line 1 "B", the third line
# 0 "X" (no line of the first is named). Not $c: lib.sh's helpers use it.
bare= named= trail=
for d in /sys/bus/virtio/devices/*/gpiochip*; do
	i=0
	while [ ! -c "/dev/$(basename "$d")" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if gpioinfo -c "$(basename "$d")" | grep -q '"[A-C]"'; then
		named=$(basename "$d")
	elif gpioinfo -c "$(basename "$d")" | grep -q '"X"'; then
		trail=$(basename "$d")
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
# Bytes after the last name: the names stand, the stray bytes are counted
# in the warning (the block ends in a NUL: nothing is missing).
[ -n "$trail" ] && expect_eq "names followed by stray bytes are kept" "X Y" \
	"$(gpioinfo -c "$trail" | grep -o '"[A-Z]"' | tr -d '"' | tr '\n' ' ' | sed 's/ $//')"
[ -n "$trail" ]
report $? "the chip with stray bytes after its names shows them" "$(gpioinfo 2>&1)"
grep -q 'line names: 1 invalid or stray, 0 missing' /tmp/msgs
report $? "the stray bytes after the last name are reported in the log" "$(cat /tmp/msgs)"
check "unload" gv_unload
finish
