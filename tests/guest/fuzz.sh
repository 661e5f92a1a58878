#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8 --loop 0:4 --loop 1:5
# kernels: 6.12 7.2
# drivers: ours
# timeout: 400
# Random device behaviour: the simulator's fuzzer gives a share of the
# replies and event buffers a fault chosen from a seed (dropped, late,
# reordered, wrong lengths, bad status and values, misdirected, repeated
# and storming events) while guest programs get, set, change directions and
# monitor edges on several lines, the second half of the time with the
# simulator's fifo behaviour. Every consumer is bounded: a program that
# the driver does not let go of in time is a failure. Once the fuzzer stops,
# the chip must answer correctly; after a rebind (the device reset reclaims
# the event buffers the fuzzer made the device lose) everything, interrupts
# included, must work as before. The kernel log must stay clean (the host
# checks it; on the debug kernel a kmemleak scan follows).
#
# The seed is the guest's boot time unless the kernel command line has
# gv.fuzz_seed=N (BOOT_APPEND="gv.fuzz_seed=N" for tests/run.sh), and the
# same seed replays the same faults for the same order of messages;
# gv.fuzz_seconds and gv.fuzz_rate change the duration and the share.
# Lines: 0 and 1 are written (wired to the inputs 4 and 5), 2 and 3 read,
# 6 pulsed by the host, 7 switched between output and input; 4 and 5 are
# monitored for the whole run, 6 by a gpiomon started again and again.
. /tests/lib.sh

SEED=${GV_fuzz_seed:-$(date +%s)}
RATE=${GV_fuzz_rate:-10}
if [ "${GV_debug:-0}" = 1 ]; then SECS=${GV_fuzz_seconds:-60}; else SECS=${GV_fuzz_seconds:-20}; fi
# An operation makes a few requests, each bounded by the driver's timeout:
# one that is not over after OPMAX s hangs.
TMO=400
OPMAX=20
say "fuzz seed $SEED, rate $RATE%, $SECS s (replay: BOOT_APPEND=gv.fuzz_seed=$SEED)"

# freport RC DESCRIPTION [DETAIL]: report, with the seed in a failure
freport() {
	report "$1" "$2" "seed $SEED${3:+; $3}"
}

check "load the $GV_driver driver" gv_load timeout_ms=$TMO || finish
use_gen 2
chip=$(gv_chip)
drvdir=$(readlink -f /sys/bus/virtio/devices/*/driver | head -n 1)
dev=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/"$chip")")")

# worker NAME: run ops until /tmp/fz.stop exists; counts in /tmp/fz.NAME
# (ok, errors, hangs: an op the bound had to end); the first line of each
# failed op's error message goes to /tmp/fz.err
worker() {
	_n=$1 _ok=0 _err=0 _hang=0 _i=0
	while [ ! -e /tmp/fz.stop ]; do
		_i=$((_i + 1))
		case $_n in
		set) timeout $OPMAX gpioset -t 0 -c "$chip" 0=$((_i % 2)) 1=$(((_i / 2) % 2)) ;;
		get) timeout $OPMAX gpioget --numeric -c "$chip" 2 3 ;;
		get1) timeout $OPMAX gpioget --numeric -c "$chip" $((2 + _i % 2)) ;;
		dir)
			if [ $((_i % 2)) = 0 ]; then timeout $OPMAX gpioset -t 0 -c "$chip" 7=1
			else timeout $OPMAX gpioget --numeric -c "$chip" 7; fi ;;
		mon) timeout 5 gpiomon -e both -n 10 -c "$chip" 6 ;;
		esac > /dev/null 2> "/tmp/fz.e.$_n"
		_rc=$?
		if [ $_rc = 0 ]; then
			_ok=$((_ok + 1))
		elif [ $_rc -ge 124 ] && { [ $_n != mon ] || [ $_rc != 143 ]; }; then
			# gpiomon may wait for events until its own bound;
			# nothing else may need the bound.
			_hang=$((_hang + 1))
		elif [ $_rc = 143 ]; then
			_ok=$((_ok + 1))
		else
			_err=$((_err + 1))
			echo "$_n: $(head -n 1 "/tmp/fz.e.$_n")" >> /tmp/fz.err
		fi
		echo "ok=$_ok err=$_err hang=$_hang" > "/tmp/fz.$_n"
	done
}

# Checks of the chip as a whole.
# lines_right WHAT: every input reads what the host sets, every output is
# driven as set
lines_right() {
	_bad=
	for _p in 0 1; do
		hctl level 2 $_p >/dev/null
		hctl level 3 $((1 - _p)) >/dev/null
		hctl level 6 $_p >/dev/null
		_g=$(timeout $OPMAX gpioget --numeric -c "$chip" 2 3 6 2>&1)
		[ "$_g" = "$_p $((1 - _p)) $_p" ] || _bad="$_bad get:$_g"
		g_hold "$chip" 7=$_p 0=$_p 1=$((1 - _p))
		wait_out 7 $_p >/dev/null 2>&1 || _bad="$_bad out7"
		wait_out 0 $_p >/dev/null 2>&1 || _bad="$_bad out0"
		wait_out 1 $((1 - _p)) >/dev/null 2>&1 || _bad="$_bad out1"
		g_release
	done
	freport "$([ -z "$_bad" ] && echo 0 || echo 1)" "$1: gets and sets are right" "$_bad"
}

# events_right WHAT: 5 edges on line 6, made by the host, reach gpiomon
events_right() {
	hctl level 6 0 >/dev/null
	rm -f /tmp/fz.ev
	timeout 60 gpiomon -e rising -n 5 -F '%o %E' -c "$chip" 6 > /tmp/fz.ev 2>&1 &
	_m=$!
	if wait_unmasked 6 >/dev/null 2>&1; then
		pulse_paced 6 5 20000 /tmp/fz.ev 1 "$STALL" 2>/tmp/fz.pe
	fi
	_n=$(grep -c '^6 rising' /tmp/fz.ev)
	kill $_m 2>/dev/null
	wait $_m 2>/dev/null
	[ "$_n" = 5 ]
	freport $? "$1: 5 edges reach gpiomon" "got $_n: $(cat /tmp/fz.ev /tmp/fz.pe 2>/dev/null | tr '\n' ' ')"
}

# Before the fuzzer: the rig works, events included (the driver learns
# which trigger types the device takes at the first interrupt request).
hctl level 2 1 >/dev/null
hctl level 3 0 >/dev/null
expect_eq "before the fuzzer: lines 2 and 3 read 1 0" "1 0" "$(g_get "$chip" 2 3)"
events_right "before the fuzzer"

rm -f /tmp/fz.*
# Readers that stay for the whole run, so that event buffers meet the
# fuzzer too; ready before it starts.
hctl level 6 0 >/dev/null
mons=
for l in 4 5; do
	timeout $((SECS + 60)) gpiomon -e both -F '%o %E' -c "$chip" $l > /tmp/fz.ev.$l 2>&1 &
	mons="$mons $!"
done
for l in 4 5; do wait_unmasked $l >/dev/null || say "line $l: no event buffer before the fuzzer"; done
r=$(hctl fuzz "$SEED" "$RATE")
freport $? "the fuzzer starts" "$r"
pids=
for w in set get get1 dir mon; do
	worker $w &
	pids="$pids $!"
done
t0=$(date +%s)
i=0
while [ $(($(date +%s) - t0)) -lt "$SECS" ]; do
	# The host's edges on line 6, a few a second.
	hctl level 6 $((i % 2)) >/dev/null
	i=$((i + 1))
	if [ $((i % 25)) = 0 ]; then
		say "fuzz $(($(date +%s) - t0)) s: $(hctl fuzz-stats); $(cat /tmp/fz.set /tmp/fz.get /tmp/fz.dir /tmp/fz.mon 2>/dev/null | tr '\n' ' ')"
	fi
	# The second half with the simulator's other device behaviour: every
	# edge kept, a disabled line's buffer held to its next edge, a scan's
	# requests shuffled.
	if [ -z "${half:-}" ] && [ $(($(date +%s) - t0)) -ge $((SECS / 2)) ]; then
		half=1
		say "fuzz: behaviour $(hctl behaviour fifo)"
	fi
	sleep 0.2
done
touch /tmp/fz.stop
hctl behaviour latch >/dev/null
# The long readers end at SIGTERM.
# shellcheck disable=SC2086
kill $mons 2>/dev/null
mleft=
for p in $mons; do
	i=0
	while alive "$p" && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	alive "$p" && mleft="$mleft $p:$(pstate "$p")"
done
freport "$([ -z "$mleft" ] && echo 0 || echo 1)" "the readers of the whole run end at SIGTERM" "left:$mleft"
say "the readers got $(cat /tmp/fz.ev.4 /tmp/fz.ev.5 | grep -c -E 'rising|falling') events"
step "fuzz: waiting for the workers"
# Each worker ends within its current operation's bound.
i=0
for p in $pids; do
	while alive "$p" && [ $i -lt $(((OPMAX + 5) * 10)) ]; do
		sleep 0.1
		i=$((i + 1))
	done
done
left=
for p in $pids; do alive "$p" && left="$left $p"; done
stuck=$(for p in $(pidof gpioget gpioset gpiomon); do
	echo "$p:$(pstate "$p")"; done | tr '\n' ' ')
freport "$([ -z "$left" ] && [ -z "$stuck" ] && echo 0 || echo 1)" \
	"every worker ends within ${OPMAX} s of the stop" "workers left:$left; tools left: $stuck"
# shellcheck disable=SC2086
kill $left 2>/dev/null
stats=$(hctl fuzz-stats)
hctl fuzz off >/dev/null
say "fuzz stopped: $stats"
hangs=0
for w in set get get1 dir mon; do
	s=$(cat "/tmp/fz.$w" 2>/dev/null)
	say "worker $w: $s"
	h=$(field hang "$s") && hangs=$((hangs + h))
done
expect_eq "no operation needed its ${OPMAX} s bound (seed $SEED)" 0 "$hangs"
# The errors: every failed operation needs a fault of the device behind it
# (a driver that fails requests of its own, or goes on failing after one
# fault, has more failures than faults), and each is of a kind a faulty
# reply explains: ETIMEDOUT (dropped or late), EPROTO (malformed), EIO
# (status ERR). An operation is several requests, so it may meet several.
# Apart from that, "get" and "get1" both ask for lines 2 and 3, so one of
# them may find a line busy (EBUSY) while the other holds it: that is the
# test's design, not a fault, and counts on its own.
touch /tmp/fz.err
busy=$(grep -c -E '^get1?: .*Device or resource busy' /tmp/fz.err)
errs=$(($(lines_of /tmp/fz.err) - busy))
n=$(field faults "$stats")
say "the workers' failed operations: $errs, and $busy that found a line busy; by message: $(sed 's/^[a-z0-9]*: //' /tmp/fz.err | sort | uniq -c | sort -rn | head -n 6 | tr '\n' ';')"
[ "$errs" -le "${n:-0}" ]
freport $? "no more failed operations than faults injected ($errs failed, ${n:-0} faults)"
odd=$(grep -v -E 'timed out|Protocol error|Input/output error|^get1?: .*Device or resource busy' /tmp/fz.err |
	head -n 3 | tr '\n' ';')
[ -z "$odd" ]
freport $? "every failed operation failed with ETIMEDOUT, EPROTO or EIO (or EBUSY between get and get1)" "$odd"
n=$(field faults "$stats")
[ "${n:-0}" -gt 0 ]
freport $? "the fuzzer injected faults" "$stats"
n=$(field events "$stats")
[ "${n:-0}" -gt 0 ]
freport $? "the fuzzer saw event buffers" "$stats"
ok=0
for w in set get get1 dir; do
	o=$(field ok "$(cat "/tmp/fz.$w" 2>/dev/null)")
	[ "${o:-0}" -gt 0 ] && ok=$((ok + 1))
done
freport "$([ $ok = 4 ] && echo 0 || echo 1)" "every request worker had successes under the fuzzer"

# Replies the fuzzer delayed or reordered come back within 200 ms.
sleep 0.5

# Requests are right again at once, without a reset.
lines_right "after the fuzzer"
# Events without a reset: reported only, since the fuzzer may have made the
# device drop a line's buffer, which no driver can get back without a reset.
hctl level 6 0 >/dev/null
timeout 10 gpiomon -e rising -n 1 -c "$chip" 6 > /tmp/fz.ev1 2>&1 &
m=$!
if wait_unmasked 6 >/dev/null 2>&1; then
	hctl level 6 1 >/dev/null
	say "after the fuzzer, before a reset: line 6 has its buffer queued; event: $(sleep 1; cat /tmp/fz.ev1)"
else
	say "after the fuzzer, before a reset: line 6 has no event buffer queued: $(cat /tmp/fz.ev1)"
fi
kill $m 2>/dev/null
wait $m 2>/dev/null

step "fuzz: rebind"
( echo "$dev" > "$drvdir/unbind" && echo "$dev" > "$drvdir/bind" ) &
b=$!
i=0
while alive $b && [ $i -lt $((OPMAX * 10)) ]; do
	sleep 0.1
	i=$((i + 1))
done
! alive $b && wait $b && wait_chip
freport $? "unbind and bind after the fuzzer end in time"
chip=$(gv_chip)
lines_right "after the rebind"
events_right "after the rebind"
check "unload the $GV_driver driver" gv_unload
[ "$FAILED" = 0 ] || say "FAILED with fuzz seed $SEED: replay with BOOT_APPEND=gv.fuzz_seed=$SEED"
finish
