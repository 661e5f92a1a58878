#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8 --loop 0:4 --loop 1:5
# kernels: 6.12 7.2
# drivers: ours
# timeout: 400
# A busy guest whose device goes away: four writers (lines 0 to 3; 0 and 1
# are wired to the inputs 4 and 5) and two event readers (4 and 5) run while
# the device is unbound and bound every few seconds; then load and unload
# cycles, each unload raced by a reader that opens the chip. Every consumer
# is bounded, none may be left behind, and afterwards the chip works; every
# other bind meets the simulator's fifo behaviour. (The
# debug kernel's kmemleak scan at the end of the boot covers the leaks.)
#
# gv.stress_seconds and gv.stress_cycles on the kernel command line change
# the duration of the first part (60 s) and the number of cycles of the
# second (200; 40 on the debug kernel, where a cycle costs five times as
# much), e.g. BOOT_APPEND="gv.stress_seconds=600" TIMEOUT_SCALE=3 for a soak.
. /tests/lib.sh

SECS=${GV_stress_seconds:-60}
if [ "${GV_debug:-0}" = 1 ]; then
	CYCLES=${GV_stress_cycles:-40}
else
	CYCLES=${GV_stress_cycles:-200}
fi
PERIOD=3
OPMAX=20
TMO=400

check "load the $GV_driver driver" gv_load timeout_ms=$TMO || finish
use_gen 2
drvdir=$(readlink -f /sys/bus/virtio/devices/*/driver | head -n 1)
chip=$(gv_chip)
dev=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/"$chip")")")

# left_behind: the libgpiod tools still running, with their states
left_behind() {
	for _p in $(pidof gpioget gpioset gpiomon); do
		printf '%s:%s ' "$_p" "$(pstate "$_p")"
	done
}

# worker NAME: until /tmp/st.stop exists, one bounded operation after the
# other on the chip of the moment (it goes and comes back); counts in
# /tmp/st.NAME: ok, errors (the chip was away), hangs (the bound ended it)
worker() {
	_n=$1 _ok=0 _err=0 _hang=0 _i=0
	while [ ! -e /tmp/st.stop ]; do
		_i=$((_i + 1))
		_c=$(gv_chip 2>/dev/null)
		if [ -z "$_c" ]; then
			sleep 0.05
			continue
		fi
		case $_n in
		w[0-3]) timeout $OPMAX gpioset -t 0 -c "$_c" "${_n#w}=$((_i % 2))" > /dev/null ;;
		r4|r5) timeout 10 gpiomon -e both -n 5 -F '%o %E' -c "$_c" "${_n#r}" >> "/tmp/st.ev.$_n" ;;
		esac 2> "/tmp/st.e.$_n"
		_rc=$?
		if [ $_rc = 0 ]; then
			_ok=$((_ok + 1))
		elif [ $_rc -ge 124 ] && [ "${_n#r}" = "$_n" ]; then
			_hang=$((_hang + 1))
		elif [ $_rc -ge 124 ]; then
			# A reader may wait for edges until its own bound.
			_ok=$((_ok + 1))
		else
			_err=$((_err + 1))
			echo "$_n: $(head -n 1 "/tmp/st.e.$_n")" >> /tmp/st.err
		fi
		echo "ok=$_ok err=$_err hang=$_hang" > "/tmp/st.$_n"
	done
}

# --- writers and readers while the device comes and goes
t="unbind/bind under load:"
rm -f /tmp/st.*
pids=
for w in w0 w1 w2 w3 r4 r5; do
	worker $w &
	pids="$pids $!"
done
t0=$(date +%s)
cycles=0 slow=0 worst=0
while [ $(($(date +%s) - t0)) -lt "$SECS" ]; do
	sleep $PERIOD
	s=$(now_ms)
	(echo "$dev" > "$drvdir/unbind") &
	b=$!
	wait_dead $b $((OPMAX * 10)) || { slow=$((slow + 1)); say "$t unbind did not end in ${OPMAX} s"; break; }
	[ "$WAIT_RC" = 0 ] || say "$t unbind failed"
	# While no driver is bound: every other cycle the device keeps every
	# edge and answers a scan's requests in a shuffled order (fifo).
	hctl behaviour $(if [ $((cycles % 2)) = 0 ]; then echo fifo; else echo latch; fi) >/dev/null
	(echo "$dev" > "$drvdir/bind") &
	b=$!
	wait_dead $b $((OPMAX * 10)) || { slow=$((slow + 1)); say "$t bind did not end in ${OPMAX} s"; break; }
	[ "$WAIT_RC" = 0 ] || say "$t bind failed"
	wait_chip || { slow=$((slow + 1)); break; }
	ms=$(($(now_ms) - s))
	[ $ms -gt $worst ] && worst=$ms
	cycles=$((cycles + 1))
	# Every other cycle the waiters spin first (poll_us), racing removal.
	echo $(((cycles % 2) * 50)) > "/sys/module/$(gv_modname)/parameters/poll_us"
	say "$t cycle $cycles (${ms} ms): $(cat /tmp/st.w0 /tmp/st.r4 2>/dev/null | tr '\n' ' ')"
done
touch /tmp/st.stop
hctl behaviour latch >/dev/null
step "$t stopping the workers"
left=
for p in $pids; do wait_dead "$p" $(((OPMAX + 5) * 10)) || left="$left $p"; done
tools=$(left_behind)
# Where a tool is stuck says more than its state letter.
for p in $(pidof gpioget gpioset gpiomon); do
	say "$t left behind: $(tr '\0' ' ' < "/proc/$p/cmdline" 2>/dev/null)"
	sed "s/^/GV-LOG: $t   /" "/proc/$p/stack" 2>/dev/null
done
[ -z "$left" ] && [ -z "$tools" ]
report $? "$t every writer and reader ends within its bound" "workers:$left tools: $tools"
# shellcheck disable=SC2086
kill $left 2>/dev/null
expect_eq "$t every unbind and bind ends in time ($cycles cycles, slowest ${worst} ms)" 0 "$slow"
hangs=0 wok=0
for w in w0 w1 w2 w3 r4 r5; do
	s=$(cat "/tmp/st.$w" 2>/dev/null)
	say "$t $w: $s"
	h=$(field hang "$s") && hangs=$((hangs + h))
	o=$(field ok "$s") && [ "$o" -gt 0 ] && wok=$((wok + 1))
done
expect_eq "$t no writer needed its ${OPMAX} s bound" 0 "$hangs"
# The errors: an operation fails only because the chip went away under it
# (or was away when it started), at most three per worker and cycle; the
# device itself answers every request.
errs=$(lines_of /tmp/st.err)
say "$t failed operations: $errs; by message: $(sed 's/^[a-z0-9]*: //' /tmp/st.err 2>/dev/null | sort | uniq -c | sort -rn | head -n 6 | tr '\n' ';')"
# libgpiod says "cannot find GPIO chip character device" when the chip's
# node is gone between its look-up and its open.
odd=$(grep -v -E 'No such device|No such file or directory|cannot find GPIO chip character device' /tmp/st.err 2>/dev/null |
	head -n 3 | tr '\n' ';')
[ -z "$odd" ]
report $? "$t every failed operation failed because the chip was going or gone (ENODEV, ENOENT)" "$odd"
# Measured on 6.12 under load: 0.9 and 1.4 a worker and cycle.
[ "$errs" -le $((cycles * 6 * 3)) ]
report $? "$t at most three failed operations per worker and cycle ($errs in $cycles cycles)"
expect_eq "$t every writer and reader had successes" 6 "$wok"
ev4=$(lines_of /tmp/st.ev.r4)
ev5=$(lines_of /tmp/st.ev.r5)
[ "$ev4" -gt 0 ] && [ "$ev5" -gt 0 ]
report $? "$t both readers got events ($ev4 and $ev5)"

# lines_work WHAT: a line reads the host's level, an output is driven, an
# edge through the loop wiring reaches gpiomon
lines_work() {
	_c=$(gv_chip)
	_bad=
	hctl level 2 1 >/dev/null
	[ "$(timeout $OPMAX gpioget --numeric -c "$_c" 2 2>&1)" = 1 ] || _bad="$_bad get"
	g_hold "$_c" 3=1
	wait_out 3 1 >/dev/null 2>&1 || _bad="$_bad set"
	g_release
	rm -f /tmp/st.ev
	g_hold "$_c" 0=0
	timeout 30 gpiomon -e rising -n 1 -c "$_c" 4 > /tmp/st.ev 2>&1 &
	_m=$!
	wait_unmasked 4 >/dev/null 2>&1 || _bad="$_bad unmask"
	g_release
	g_hold "$_c" 0=1
	wait_dead $_m 150 || _bad="$_bad event"
	g_release
	kill $_m 2>/dev/null
	wait $_m 2>/dev/null
	[ -z "$_bad" ]
	report $? "$1: the chip works (get, set, an event)" "$_bad; $(cat /tmp/st.ev)"
}
lines_work "after unbind/bind under load"

# --- load and unload, a reader racing each unload
t="load/unload with a racing reader:"
check "$t unload" gv_unload ||
	say "$t the module's refcount is $(cat "/sys/module/$(gv_modname)/refcnt" 2>&1) with no tool running ($(left_behind)); irqs: $(grep -c gpiomon /proc/interrupts) gpiomon lines in /proc/interrupts"
s=$(now_ms)
bad=0 busy=0 stuck=0
for cyc in $(seq "$CYCLES"); do
	if ! gv_load timeout_ms=$TMO >/dev/null 2>&1; then
		bad=$((bad + 1))
		say "$t cycle $cyc: load failed"
		continue
	fi
	c=$(gv_chip)
	# The reader opens the chip as the unload begins: it gets the line
	# (and the unload waits for it) or finds the chip gone.
	timeout $OPMAX gpioget --numeric -c "$c" $((cyc % 4)) > /dev/null 2>&1 &
	r=$!
	j=0
	while ! gv_unload 2>/dev/null; do
		j=$((j + 1))
		if [ $j -ge $((OPMAX * 20)) ]; then
			bad=$((bad + 1))
			say "$t cycle $cyc: rmmod refused for ${OPMAX} s"
			break
		fi
		sleep 0.05
	done
	[ $j -gt 0 ] && busy=$((busy + 1))
	wait_dead $r $((OPMAX * 10)) || { stuck=$((stuck + 1)); say "$t cycle $cyc: the reader is stuck"; }
	[ $((cyc % 20)) = 0 ] && say "$t $cyc cycles, $busy unloads waited for the reader, $bad wrong ($(( ($(now_ms) - s) / cyc )) ms a cycle)"
done
ms=$(($(now_ms) - s))
say "$t $CYCLES cycles in ${ms} ms"
expect_eq "$t $CYCLES cycles, each loaded and unloaded ($busy unloads waited for the reader)" 0 "$bad"
expect_eq "$t no reader is left behind" 0 "$stuck"
grep -q '^gpio_virtio ' /proc/modules
report $((!$?)) "$t the module is gone after the last cycle"

check "load the $GV_driver driver again" gv_load timeout_ms=$TMO || finish
lines_work "after $CYCLES load/unload cycles"
tools=$(left_behind)
expect_eq "no libgpiod tool is left running" "" "$tools"
check "unload the $GV_driver driver" gv_unload
finish
