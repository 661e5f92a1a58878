#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Shared body of ring.sh and ring-noindirect.sh.
. /tests/lib.sh

N=64
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)
use_gen 2
all=$(seq 0 $((N - 1)))

want=
for l in $all; do
	v=$(( (l / 3) % 2 ))
	hctl level "$l" $v >/dev/null
	want="$want $v"
done
expect_eq "one gpioget reads all $N lines right" "${want# }" "$(g_get "$chip" $all)"

args=
for l in $all; do args="$args $l=$(( (l / 5) % 2 ))"; done
g_hold "$chip" $args
bad=0
for l in $all; do
	wait_out "$l" $(( (l / 5) % 2 )) 2>/dev/null || bad=$((bad + 1))
done
g_release
expect_eq "one gpioset drives all $N lines right" 0 "$bad"
s=$(hctl stats)
expect_eq "no request failed" 0 "$(field errors "$s")"

check "unload the $GV_driver driver" gv_unload
finish
