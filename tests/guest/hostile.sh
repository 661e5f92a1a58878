#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 4 --names-size 0xffffffff
# sim1: --lines 4 --names-raw @DATA@/names-dup.bin
# devices: 2
# drivers: ours
# A device that lies: an impossible names size, duplicate names and a names
# block without its final NUL. Probe must refuse or cope, never oops.
. /tests/lib.sh

insmod "$(gv_module)"
report $? "the module loads"
sleep 1
dmesg | grep -i 'gpio' | grep -iE 'names|size' > /tmp/msgs
cat /tmp/msgs
n=$(ls -d /sys/bus/virtio/devices/*/gpiochip* 2>/dev/null | wc -l)
[ "$n" -ge 1 ]
report $? "the device with sane sizes gets a chip ($n chips)"
grep -qiE 'size|names' /tmp/msgs
report $? "the impossible names size is reported in the log"

use_gen 2
c=$(gv_chip_lines 4)
info=$(gpioinfo -c "$c")
echo "$info"
echo "$info" | grep -E '^[[:space:]]+line +1:' | grep -q '"B"'
report $? "a valid name is kept"
dups=$(echo "$info" | grep -o '"[A-Z]"' | sort | uniq -d)
expect_eq "no name is shown twice" "" "$dups"
echo "$info" | grep -E '^[[:space:]]+line +3:' | grep -q unnamed
report $? "a name without its final NUL is dropped"
g_get "$c" 0 >/dev/null
report $? "the chip with bad names works"
check "unload" gv_unload
finish
