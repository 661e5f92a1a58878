#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 65535
# drivers: ours
# timeout: 300
# The largest device the config space can describe.
. /tests/lib.sh

check "a 65535-line device probes" gv_load || finish
chip=$(gv_chip)
use_gen 2
gpiodetect | grep -q "^$chip .*(65535 lines)"
report $? "gpiodetect lists 65535 lines" "$(gpiodetect)"
gpioinfo -c "$chip" 65534 | grep -q '"GPIO65534"'
report $? "the last line has its name" "$(gpioinfo -c "$chip" 65534)"
hctl level 65534 1 >/dev/null
expect_eq "the last line reads the host's level" 1 "$(g_get "$chip" 65534)"
g_hold "$chip" 40000=1
sleep 0.5
r=$(hctl get 40000)
g_release
expect_eq "a high line drives its output" "out 1" "$(field dir "$r") $(field value "$r")"
check "unload" gv_unload
finish
