#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 65535
# drivers: ours
# timeout: 300
# The largest device the config space can describe.
. /tests/lib.sh

if ! gv_load 2>/dev/null; then
	# Before Linux 6.x moved away from the global GPIO number space, gpiolib
	# cannot number this many lines: the probe must then fail cleanly.
	if dmesg | grep -q 'gpiochip_find_base: cannot find free range'; then
		dmesg | grep -q 'gpio-virtio virtio0: cannot add the GPIO chip: -28'
		report $? "a 65535-line device is refused cleanly: this kernel's gpiolib has no room for its numbers"
		check "unload" gv_unload
	else
		report 1 "a 65535-line device probes" "$(dmesg | grep -i gpio | tail -n 3)"
	fi
	finish
fi
report 0 "a 65535-line device probes"
chip=$(gv_chip)
use_gen 2
gpiodetect | grep -q "^$chip .*(65535 lines)"
report $? "gpiodetect lists 65535 lines" "$(gpiodetect)"
gpioinfo -c "$chip" 65534 | grep -q '"GPIO65534"'
report $? "the last line has its name" "$(gpioinfo -c "$chip" 65534)"
hctl level 65534 1 >/dev/null
expect_eq "the last line reads the host's level" 1 "$(g_get "$chip" 65534)"
g_hold "$chip" 40000=1
i=0
while [ $i -lt 100 ]; do
	r=$(hctl get 40000)
	[ "$(field dir "$r")" = out ] && break
	sleep 0.1
	i=$((i + 1))
done
g_release
expect_eq "a high line drives its output" "out 1" "$(field dir "$r") $(field value "$r")"
check "unload" gv_unload
finish
