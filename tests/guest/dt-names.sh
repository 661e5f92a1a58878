#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 4
# drivers: ours intree
# arch: arm64
# devicetree: dt-names.dts
# Both the device (GPIO0..GPIO3) and its device-tree node
# (tests/data/dt-names.dts: "DT-ALPHA", "DT-BETA", "", "DT-DELTA") name the
# lines: the node's names win, and a line the node leaves unnamed ("")
# keeps the device's name (gpiolib applies the node's gpio-line-names over
# the names a driver gives, on 6.1 and 6.12, for either driver).
. /tests/lib.sh

use_gen 2
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)
vdev=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/"$chip")")")
[ -e "/sys/bus/virtio/devices/$vdev/of_node/gpio-line-names" ]
report $? "the virtio device has the node with gpio-line-names"

got=
for l in 0 1 2 3; do
	got="$got $(info_line "$chip" $l | sed -n 's/.*"\([^"]*\)".*/\1/p' | head -n 1)"
done
expect_eq "the node's names win; the line it leaves unnamed keeps the device's" \
	"DT-ALPHA DT-BETA GPIO2 DT-DELTA" "${got# }"

# A line found by its name: gpioget NAME looks the name up in every chip.
hctl level 1 1 >/dev/null
expect_eq "gpioget finds line 1 by its name from the node" 1 "$(gpioget --numeric DT-BETA 2>&1)"
! gpioinfo GPIO1 >/dev/null 2>&1
report $? "the device's name the node replaced (GPIO1) is not found"

check "unload the $GV_driver driver" gv_unload
finish
