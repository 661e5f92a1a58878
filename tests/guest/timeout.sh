#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 72
# drivers: ours
# timeout: 300
# A device that never answers: every wait is bounded by timeout_ms (an
# ETIMEDOUT no earlier than timeout_ms and not much later), and killable:
# with timeout_ms raised to 60 s or 0 (no limit), so that only the signal
# can end the wait, SIGKILL and SIGINT sent to the waiting program itself
# end it well within the bound, for a caller waiting for a reply, one
# waiting for room on a request ring the device has filled, and an
# interrupt's start-up (SET_IRQ_TYPE unanswered). The late reply lands
# safely; other lines keep working; unbind ends a wait at once.
. /tests/lib.sh

TMO=400
check "load the driver with timeout_ms=$TMO" gv_load timeout_ms=$TMO || finish
chip=$(gv_chip)
use_gen 2
P=/sys/module/gpio_virtio/parameters/timeout_ms
# An ETIMEDOUT comes no earlier than 0.9 x timeout_ms (jiffies round the
# deadline) and at most TMO_LATE ms after it: the driver's deadline, the
# waiter's wake-up and the return to user space on a TCG guest that shares
# 2 host cores with other guests. Measured (the operation alone, timed by
# gvop): 6.12, 2 guests on 2 busy cores: 401-431 ms for 400; the debug
# kernel is several times slower.
TMO_LATE=600
[ "${GV_debug:-0}" = 1 ] && TMO_LATE=2500

# timed_out WHAT OUT: report that the gvop of OUT failed with ETIMEDOUT in
# [0.9 x timeout_ms, timeout_ms + TMO_LATE]
timed_out() {
	_r=$(op_result "$2")
	_ms=$(op_ms "$2")
	say "$1: $_r"
	[ "${_r%% *}" = err ] && [ "$(echo "$_r" | cut -d' ' -f2)" = ETIMEDOUT ] &&
		[ "${_ms:-0}" -ge $((TMO * 9 / 10)) ] && [ "${_ms:-0}" -le $((TMO + TMO_LATE)) ]
	report $? "$1: ETIMEDOUT after $((TMO * 9 / 10)) to $((TMO + TMO_LATE)) ms" "$_r"
}

# wait_inflight N: the simulator holds N requests (bounded)
wait_inflight() {
	_i=0
	while [ "$(field inflight "$(hctl stats)")" != "$1" ]; do
		[ $_i -ge $((STALL * 10)) ] && { echo "the simulator holds $(field inflight "$(hctl stats)"), not $1" >&2; return 1; }
		sleep 0.1
		_i=$((_i + 1))
	done
}

# op_go OUT NAME GVOP-ARGS...: a gvop whose operation waits for the file
# /tmp/go.NAME after its line request (op_start); GV_PID
op_go() {
	_o=$1 _n=$2
	shift 2
	rm -f "/tmp/go.$_n"
	GVOP_WAIT=/tmp/go.$_n op_start "$_o" "$@"
}

# blocked WHAT PID MS: PID is still waiting MS ms later (the wait was not
# ended by anything else: the lower bound of a kill test)
blocked() {
	sleep "$(($3 / 1000)).$(printf '%03d' $(($3 % 1000)))"
	alive "$2"
	report $? "$1: the caller is still waiting after $3 ms" "state $(pstate "$2")"
}

# kill_check WHAT PID SIG RC: SIG sent to PID (the waiting program itself)
# ends it within KILL_BOUND ms with exit status RC
kill_check() {
	killed "$2" "$3"
	[ "$KILL_RC" = "$4" ] && [ "$KILL_MS" -le "$KILL_BOUND" ]
	report $? "$1: SIG$3 ends it within $KILL_BOUND ms (${KILL_MS} ms)" \
		"exit status $KILL_RC, state '$KILL_STATE'"
}

# --- timeout_ms bounds a wait for a reply
t="a request the device never answers"
step "$t"
hctl level 4 1 >/dev/null
op_go /tmp/o a get "$chip" 4
hctl hang 4 1 >/dev/null
touch /tmp/go.a
bounded_wait=$(( (TMO + TMO_LATE) / 1000 + STALL ))
wait_dead "$GV_PID" $((bounded_wait * 10)) || { kill -9 "$GV_PID"; say "$t: gvop did not end"; }
timed_out "$t" /tmp/o

hctl level 5 1 >/dev/null
expect_eq "another line works while one hangs" 1 "$(g_get "$chip" 5)"

# Late replies land after the waiters gave up: nothing is reused early.
hctl hang 4 0 >/dev/null
sleep 0.5
expect_eq "the hung line works after the late reply landed" 1 "$(g_get "$chip" 4)"

# --- killable: a wait for a reply. The real tool, SIGKILL, timeout_ms
# raised; then gvop (signals at their defaults), SIGINT, no limit.
echo 60000 > $P
t="kill, a wait for a reply (gpioget, timeout_ms=60000)"
step "$t"
hctl hang 6 1 >/dev/null
bg_start /tmp/o gpioget --numeric -c "$chip" 6
wait_inflight 1
report $? "$t: the device holds its request"
blocked "$t" "$BG_PID" 1000
kill_check "$t" "$BG_PID" KILL 137
hctl hang 6 0 >/dev/null

echo 0 > $P
t="kill, a wait for a reply (gvop, timeout_ms=0)"
step "$t"
op_go /tmp/o b get "$chip" 6
hctl hang 6 1 >/dev/null
touch /tmp/go.b
wait_inflight 1
report $? "$t: the device holds its request"
# Past the default timeout_ms (1000): 0 is no limit.
blocked "$t" "$GV_PID" 1500
kill_check "$t" "$GV_PID" INT 130
hctl hang 6 0 >/dev/null
wait_inflight 0 >/dev/null

# --- killable: a wait for room on the ring. One caller reads 64 lines the
# device holds: its batch fills QEMU's 64-entry request ring (a request
# takes one entry with indirect descriptors). The next caller's request
# cannot even be queued: the device sees nothing from it.
t="kill, a wait for room on a full request ring"
step "$t"
op_go /tmp/hold h get "$chip" "$(seq -s, 0 63)"
holder=$GV_PID
op_go /tmp/w1 w1 get "$chip" 64
w1=$GV_PID
op_go /tmp/w2 w2 get "$chip" 65
w2=$GV_PID
hctl hang 0-63 1 >/dev/null
touch /tmp/go.h
wait_inflight 64
report $? "$t: the device holds 64 requests of one caller"
for c in "w1 $w1 64 0 KILL 137" "w2 $w2 65 60000 INT 130"; do
	set -- $c
	echo "$4" > $P
	tt="$t (timeout_ms=$4)"
	before=$(field requests "$(hctl stats "$3")")
	touch "/tmp/go.$1"
	blocked "$tt" "$2" 1500
	after=$(field requests "$(hctl stats "$3")")
	s=$(hctl stats)
	expect_eq "$tt: the ring stays full, the waiting caller's request never reached the device" \
		"64 $before" "$(field inflight "$s") $after"
	kill_check "$tt" "$2" "$5" "$6"
done
# The holder waits for 64 replies: killed too, then the replies land late.
t="kill, a wait for 64 replies (timeout_ms=60000)"
kill_check "$t" "$holder" KILL 137
hctl hang 0-63 0 >/dev/null
wait_inflight 0 >/dev/null
for l in 0 1 2 3; do hctl level $l $((l % 2)) >/dev/null; done
expect_eq "the ring works again after the late replies landed" "0 1 0 1" "$(g_get "$chip" 0 1 2 3)"
# A batch that fits only in part: the device holds one caller's request
# (one entry), a read of 64 lines queues 63 (held too), kicks them, waits
# for room and queues the last when the held replies land. gpiolib-cdev
# takes at most 64 lines per request, the ring's size: alone, a read never
# waits for room.
t="a read of 64 lines, one ring entry taken"
step "$t"
hctl level 64 1 >/dev/null
op_go /tmp/hold h get "$chip" 0
op_go /tmp/w1 w1 get "$chip" "$(seq -s, 1 64)"
w1=$GV_PID
hctl hang 0-63 1 >/dev/null
touch /tmp/go.h
wait_inflight 1
touch /tmp/go.w1
wait_inflight 64
report $? "$t: the device holds the other caller's request and 63 of the read's"
alive "$w1"
report $? "$t: the read waits for room for its last request" "state $(pstate "$w1")"
hctl hang 0-63 0 >/dev/null
wait_dead "$w1" $((STALL * 10))
r=$(op_result /tmp/w1)
set -- $r
expect_eq "$t: once the held replies land the read completes, 64 values, line 64 high" \
	"ok 64 1" "$1 $(($# - 2)) ${65:-}" "$r"
wait_inflight 0 >/dev/null
hctl level 64 0 >/dev/null

# --- killable: an interrupt's start-up, its SET_IRQ_TYPE unanswered (the
# device keeps that request: dropped)
echo 60000 > $P
# startup_case WHAT SIG RC CMD...: CMD (the waiting program itself) asks
# for line 5's interrupt while the device drops the SET_IRQ_TYPE
startup_case() {
	_st=$1 _sig=$2 _rc=$3
	shift 3
	step "$_st"
	hctl level 5 0 >/dev/null
	hctl fault drop,line=5,req=irq-type,count=1 >/dev/null
	bg_start /tmp/o "$@"
	_i=0
	while ! hctl fault list | grep -q '^0 faults' && [ $_i -lt $((STALL * 10)) ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	hctl fault list | grep -q '^0 faults'
	report $? "$_st: the device took its SET_IRQ_TYPE and keeps it"
	hctl fault clear >/dev/null
	blocked "$_st" "$BG_PID" 1500
	kill_check "$_st" "$BG_PID" "$_sig" "$_rc"
}
startup_case "kill, an interrupt's start-up (gpiomon, timeout_ms=60000)" KILL 137 \
	gpiomon -n 1 -e both -c "$chip" 5
echo 0 > $P
startup_case "kill, an interrupt's start-up (gvop, timeout_ms=0)" INT 130 \
	/tests/bin/gvop mon "$chip" 5
echo $TMO > $P
# gpiomon works on the line afterwards.
rm -f /tmp/mon
(exec_mon "$chip" rising 1 5) > /tmp/mon 2>&1 &
MPID=$!
wait_unmasked 5 >/dev/null
hctl level 5 1 >/dev/null
wait_dead "$MPID" $((STALL * 10)) || mon_stop
expect_eq "after the killed start-ups, gpiomon gets the line's edge" "5 rising" "$(cat /tmp/mon)"

# --- removal (unbind) while a request is in flight completes it with an
# error at once
echo 20000 > $P
hctl hang 7 1 >/dev/null
bg_start /tmp/out gpioget --numeric -c "$chip" 7
wait_inflight 1 >/dev/null
dev=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/$chip)")")
t0=$(now_ms)
echo "$dev" > /sys/bus/virtio/drivers/gpio-virtio/unbind
urc=$?
bg_wait 10
ms=$(($(now_ms) - t0))
expect_eq "unbind with a request in flight succeeds" 0 "$urc"
[ "$RC" != 0 ] && [ "$RC" != hang ] && [ "$ms" -lt 5000 ]
report $? "the request in flight at unbind fails at once (${ms} ms) instead of hanging" "$(cat /tmp/out)"
hctl hang 7 0 >/dev/null
echo "$dev" > /sys/bus/virtio/drivers/gpio-virtio/bind
wait_chip
echo $TMO > $P

# --- poll_us: the waiter spins for the reply first, then sleeps to the
# bound.
PP=/sys/module/gpio_virtio/parameters/poll_us
chip=$(gv_chip)
echo 200 > $PP
hctl level 3 1 >/dev/null
expect_eq "with poll_us=200: a line reads the device's level" 1 "$(g_get "$chip" 3)"
hctl level 3 0 >/dev/null
expect_eq "with poll_us=200: and its new level" 0 "$(g_get "$chip" 3)"
op_go /tmp/o c get "$chip" 3
hctl hang 3 1 >/dev/null
touch /tmp/go.c
wait_dead "$GV_PID" $((bounded_wait * 10)) || { kill -9 "$GV_PID"; say "gvop did not end"; }
timed_out "with poll_us=200: an unanswered request" /tmp/o
hctl hang 3 0 >/dev/null
hctl level 3 1 >/dev/null
get_until "$chip" 3 1 50
expect_eq "with poll_us=200: the line works after the late reply" 1 "$(g_get "$chip" 3)"
echo 0 > $PP
# The last poller turned the device's notifications on again: a read that
# does not poll is woken by the reply's interrupt, not by its deadline.
hctl level 3 0 >/dev/null
bounded 10 /tmp/o /tests/bin/gvop get "$chip" 3
r=$(op_result /tmp/o)
ms=$(op_ms /tmp/o)
[ "$RC" = 0 ] && [ "${r%% ms=*}" = "ok 0" ] && [ "${ms:-$TMO}" -lt "$TMO" ]
report $? "poll_us back to 0: a read completes before timeout_ms ($TMO ms)" "$r"
check "unload the driver" gv_unload
finish
