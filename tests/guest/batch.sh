#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 32
# drivers: ours intree
# Many lines at once: one request for 32 lines, four processes at once, and a
# device that answers ERR.
. /tests/lib.sh

N=32
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)
use_gen 2
all=$(seq 0 $((N - 1)))

# 32 lines read in one gpioget: every value right, all in flight at once.
want=
for l in $all; do
	v=$(( (l * 7 / 3) % 2 ))
	hctl level "$l" $v >/dev/null
	want="$want $v"
done
hctl reset-stats >/dev/null
got=$(g_get "$chip" $all)
expect_eq "one gpioget reads $N lines right" "${want# }" "$got"
s=$(hctl stats)
xfail_peer "no get_multiple: one request in flight at a time"
[ "$(field batch_max "$s")" -ge $N ]
report $? "one gpioget puts all $N requests in flight together" "$s"

# kicks_per OP: the device's kicks for 10 reads (or writes) of all N lines
# on a held request: gvbench's run of 11 operations minus its run of 1
# (the line request and release, the same in both, cancel out)
kicks_per() {
	_k0=$(field kicks "$(hctl stats)")
	gvbench ops "$chip" "$1" $N 1 0 >/dev/null
	_k1=$(field kicks "$(hctl stats)")
	gvbench ops "$chip" "$1" $N 11 0 >/dev/null
	_k2=$(field kicks "$(hctl stats)")
	echo $(( (_k2 - _k1) - (_k1 - _k0) ))
}
xfail_peer "no get_multiple: a kick for every line"
expect_eq "10 reads of $N lines notify the device 10 times: one kick each" 10 "$(kicks_per get)"

# 32 lines set in one gpioset.
args=
for l in $all; do args="$args $l=$(( (l / 2) % 2 ))"; done
hctl reset-stats >/dev/null
g_hold "$chip" $args
bad=0
for l in $all; do
	wait_out "$l" $(( (l / 2) % 2 )) 2>/dev/null || bad=$((bad + 1))
done
expect_eq "one gpioset drives $N lines right" 0 "$bad"
g_release
# Requesting lines as outputs sets them one by one; a set of all of them on
# a held request goes through set_multiple.
hctl reset-stats >/dev/null
out=$(gvbench ops "$chip" set $N 3 0)
s=$(hctl stats)
xfail_peer "no set_multiple: one request in flight at a time"
[ "$(field batch_max "$s")" -ge $N ]
report $? "one write of $N lines puts all $N requests in flight together" "$out $s"
xfail_peer "no set_multiple: a kick for every line"
expect_eq "10 writes of $N lines notify the device 10 times: one kick each" 10 "$(kicks_per set)"

# Four processes, each on its own lines, every value checked by the host.
# Ten rounds; one on the debug kernel, where every process start is slow.
ROUNDS=10
[ "${GV_debug:-0}" = 1 ] && ROUNDS=1
worker() {	# worker FIRST: lines FIRST..FIRST+7, $ROUNDS rounds
	errs=0
	for round in $(seq $ROUNDS); do
		for l in $(seq "$1" $(($1 + 7))); do
			v=$(( (round + l) % 2 ))
			g_hold "$chip" "$l=$v"
			wait_out "$l" $v 2>/dev/null || errs=$((errs + 1))
			g_release
		done
		say "worker $1: round $round done, $errs wrong"
	done
	echo "$errs" > "/tmp/worker.$1"
}
for first in 0 8 16 24; do worker $first & done
wait
bad=$(cat /tmp/worker.* | awk '{ s += $1 } END { print s }')
expect_eq "four processes drive their lines concurrently, every value right" 0 "$bad"

# A device that answers ERR: the tools fail, the next request works.
hctl fail 3 1 >/dev/null
g_set "$chip" 3=1 2>/tmp/err
rc=$?
[ $rc != 0 ]
report $? "a device ERR makes gpioset fail" "$(cat /tmp/err)"
hctl level 3 1 >/dev/null
g_get "$chip" 3 >/dev/null 2>&1
[ $? != 0 ]
report $? "a device ERR makes gpioget fail"
hctl fail 3 0 >/dev/null
expect_eq "after the ERR the line works again" 1 "$(g_get "$chip" 3)"

check "unload the $GV_driver driver" gv_unload
finish
