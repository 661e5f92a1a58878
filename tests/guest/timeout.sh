#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# drivers: ours
# A device that never answers: bounded, killable waits; the late reply lands
# safely; other lines keep working.
. /tests/lib.sh

check "load the driver with timeout_ms=400" gv_load timeout_ms=400 || finish
chip=$(gv_chip)
use_gen 2
P=/sys/module/gpio_virtio/parameters/timeout_ms

# timed_get LINE: one bounded gpioget of LINE, output in /tmp/out; rc, ms
timed_get() {
	bounded 10 /tmp/out gpioget --numeric -c "$chip" "$1"
	rc=$RC ms=$MS
}

hctl level 4 1 >/dev/null
hctl hang 4 1 >/dev/null
timed_get 4
[ $rc != 0 ] && [ "$ms" -lt 5000 ]
report $? "a request the device never answers fails within the bound (${ms} ms)" "$(cat /tmp/out)"
grep -qi 'timed out' /tmp/out
report $? "the error is ETIMEDOUT" "$(cat /tmp/out)"

hctl level 5 1 >/dev/null
expect_eq "another line works while one hangs" 1 "$(g_get "$chip" 5)"

# Late replies land after the waiters gave up: nothing is reused early.
hctl hang 4 0 >/dev/null
sleep 0.5
expect_eq "the hung line works after the late reply landed" 1 "$(g_get "$chip" 4)"

# Killable: a long bound, and SIGKILL ends the wait at once.
echo 20000 > $P
hctl hang 6 1 >/dev/null
g_get "$chip" 6 >/dev/null 2>&1 &
pid=$!
sleep 1
t0=$(cut -d' ' -f1 /proc/uptime)
kill -9 $pid
wait $pid 2>/dev/null
t1=$(cut -d' ' -f1 /proc/uptime)
ms=$(echo "$t0 $t1" | awk '{ printf "%d", ($2 - $1) * 1000 }')
[ "$ms" -lt 3000 ]
report $? "SIGKILL ends a wait for a reply at once (${ms} ms)"
hctl hang 6 0 >/dev/null
echo 400 > $P

# The counters in debugfs saw it.
st=$(ls /sys/kernel/debug/gpio-virtio/*/stats 2>/dev/null | head -n 1)
[ -n "$st" ] && awk '$1 == "4" && $4 >= 1 { f = 1 } END { exit !f }' "$st"
report $? "debugfs counts the timeout on line 4" "$(head -n 6 "$st" 2>&1)"

# Removal (unbind) while a request is in flight completes it with an error.
echo 20000 > $P
hctl hang 7 1 >/dev/null
g_get "$chip" 7 > /tmp/out 2>&1 &
pid=$!
sleep 1
dev=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/$chip)")")
t0=$(cut -d' ' -f1 /proc/uptime)
echo "$dev" > /sys/bus/virtio/drivers/gpio-virtio/unbind
urc=$?
wait $pid
rc=$?
t1=$(cut -d' ' -f1 /proc/uptime)
ms=$(echo "$t0 $t1" | awk '{ printf "%d", ($2 - $1) * 1000 }')
expect_eq "unbind with a request in flight succeeds" 0 "$urc"
[ $rc != 0 ] && [ "$ms" -lt 5000 ]
report $? "the request in flight at unbind fails at once (${ms} ms) instead of hanging" "$(cat /tmp/out)"
hctl hang 7 0 >/dev/null
echo "$dev" > /sys/bus/virtio/drivers/gpio-virtio/bind
wait_chip
echo 400 > $P

# poll_us: the waiter spins for the reply first, then sleeps to the bound.
PP=/sys/module/gpio_virtio/parameters/poll_us
chip=$(gv_chip)
echo 200 > $PP
hctl level 3 1 >/dev/null
expect_eq "with poll_us=200: a line reads the device's level" 1 "$(g_get "$chip" 3)"
hctl level 3 0 >/dev/null
expect_eq "with poll_us=200: and its new level" 0 "$(g_get "$chip" 3)"
hctl hang 3 1 >/dev/null
timed_get 3
[ $rc != 0 ] && [ "$ms" -lt 5000 ] && grep -qi 'timed out' /tmp/out
report $? "with poll_us=200: an unanswered request still times out (${ms} ms)" "$(cat /tmp/out)"
hctl hang 3 0 >/dev/null
hctl level 3 1 >/dev/null
i=0
while [ "$(g_get "$chip" 3 2>/dev/null)" != 1 ] && [ $i -lt 50 ]; do
	sleep 0.1
	i=$((i + 1))
done
expect_eq "with poll_us=200: the line works after the late reply" 1 "$(g_get "$chip" 3)"
echo 0 > $PP
check "unload the driver" gv_unload
finish
