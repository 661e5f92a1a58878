#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 16 --loop 0:1
# drivers: ours intree
# timeout: 600
# Edge events through the event virtqueue, counted on both sides of the
# wire, and apart from that where user space reads them.
#
# Conservation: the simulator makes free-running pulses ("burst": it never
# waits for the driver to re-arm a line, so edges also arrive while a
# line's buffer is on its way back, where one is most likely lost) on 1
# line and on 8 lines at once, below and far above the rate the driver
# keeps up with, with the device of both behaviours (latch: one latched
# edge per masked line; fifo: every edge kept, one per buffer). Per line,
# the edges the device saw must be the events it completed plus the edges
# it lost itself (its counters), and every completed event an interrupt the
# kernel handled (/proc/interrupts, our driver's debugfs) and a sequence
# number of gpiolib-cdev (which counts what its 16-event FIFO dropped for a
# slow reader too). What the reader got is reported apart.
#
# Readers: gpiomon of both libgpiod generations counts the events of pulses
# paced for it: this part is about the tool, so the simulator's "pulse"
# waits for each line to be re-armed, a batch that fits the FIFO at a time,
# each sent once gpiomon has printed every event so far; a gpiomon that
# stops making progress fails at once, with what the device sent and the
# kernel handled.
. /tests/lib.sh

TOOL_PULSES=${TOOL_PULSES:-200}
PERIOD_US=1000
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)

# per_pulse EDGES: events per pulse
per_pulse() {
	if [ "$1" = both ]; then echo 2; else echo 1; fi
}

# sim_events L: the events the device has sent on line L
sim_events() {
	field events "$(hctl stats "$1")"
}

# Slow: 50 pulses a second, a quarter of what the driver kept up with on
# one line in the last make bench; fast: 2000 a second, ten times that.
EIGHT=8,9,10,11,12,13,14,15
for b in latch fifo; do
	r=$(hctl behaviour $b)
	report $? "device behaviour $b" "$r"
	if [ $b = latch ]; then
		burst_check "conservation ($b), 1 line, 50 Hz" "$chip" 2 60 20000
		burst_check "conservation ($b), 8 lines, 50 Hz" "$chip" $EIGHT 60 20000
	fi
	burst_check "conservation ($b), 1 line, 2 kHz" "$chip" 2 400 500
	k1=$BURST_KEPT
	burst_check "conservation ($b), 8 lines, 2 kHz" "$chip" $EIGHT 400 500
	[ "$k1" -gt 0 ] && [ "$BURST_KEPT" -gt 0 ]
	report $? "conservation ($b): the fast bursts outran the driver (edges met masked lines: $k1 on 1 line, $BURST_KEPT on 8)"
done
hctl behaviour latch >/dev/null

# tool_count GEN EDGES: gpiomon of generation GEN counts TOOL_PULSES pulses
# paced for it; sets n (events printed for line 2) and fails early on a stall
tool_count() {
	_want=$((TOOL_PULSES * $(per_pulse "$2")))
	rm -f /tmp/ev /tmp/ev.err
	before=$(sim_events 2)
	(use_gen "$1"; exec_mon "$chip" "$2" $_want 2) > /tmp/ev 2> /tmp/ev.err &
	mpid=$!
	n=error
	if ! wait_unmasked 2 2> /tmp/ev.why; then
		kill $mpid
		return 1
	fi
	if ! pulse_paced 2 $TOOL_PULSES $PERIOD_US /tmp/ev "$(per_pulse "$2")" $STALL 2> /tmp/ev.why; then
		echo "$(cat /tmp/ev.why); the device sent $(( $(sim_events 2) - before )), the kernel handled $(irq_row gpiomon)" > /tmp/ev.why
		kill $mpid 2>/dev/null
		wait $mpid 2>/dev/null
		return 1
	fi
	wait_dead $mpid $((STALL * 10)) || { kill $mpid; echo "gpiomon did not exit" > /tmp/ev.why; return 1; }
	n=$(grep -c '^2 ' /tmp/ev)
}


for gen in 1 2; do
	use_gen $gen
	t="gpiod$gen:"
	hctl level 2 0 >/dev/null
	if [ $gen = 1 ]; then rise='2 1' fall='2 0'; else rise='2 rising' fall='2 falling'; fi

	step "$t gpiomon, $TOOL_PULSES rising pulses paced for it"
	tool_count $gen rising
	expect_eq "$t gpiomon counts $TOOL_PULSES rising edges for $TOOL_PULSES pulses" \
		"$TOOL_PULSES $TOOL_PULSES" "$n $(grep -cx "$rise" /tmp/ev)" "$(cat /tmp/ev.why /tmp/ev.err 2>/dev/null)"

	step "$t gpiomon, $TOOL_PULSES falling pulses paced for it"
	tool_count $gen falling
	expect_eq "$t gpiomon counts $TOOL_PULSES falling edges for $TOOL_PULSES pulses" \
		"$TOOL_PULSES $TOOL_PULSES" "$n $(grep -cx "$fall" /tmp/ev)" "$(cat /tmp/ev.why /tmp/ev.err 2>/dev/null)"

	step "$t gpiomon, $TOOL_PULSES pulses (both edges) paced for it"
	tool_count $gen both
	expect_eq "$t gpiomon counts $((2 * TOOL_PULSES)) edges (both) for $TOOL_PULSES pulses" \
		"$((2 * TOOL_PULSES))" "$n" "$(cat /tmp/ev.why /tmp/ev.err 2>/dev/null)"

	# Slow pulses: each edge is named right (gpiolib names an edge of a
	# both-edge line by reading the line, which needs time to settle).
	step "$t slow pulses, edges named in order"
	rm -f /tmp/ev
	(use_gen $gen; exec_mon "$chip" both 10 2) > /tmp/ev 2>&1 &
	mpid=$!
	wait_unmasked 2
	hctl pulse 2 5 400000 >/dev/null
	wait_dead $mpid $((STALL * 10)) || kill $mpid
	names=$(sed -e 's/^2 1$/2 rising/' -e 's/^2 0$/2 falling/' /tmp/ev |
		awk '{ printf "%s%s", s, $2; s = "," }')
	expect_eq "$t slow pulses: edges named in order" \
		"rising,falling,rising,falling,rising,falling,rising,falling,rising,falling" "$names"
done

use_gen 2
# --loop 0:1: the guest drives line 0, reads line 1.
step "loop wiring: line 1 follows output line 0"
bad=0
for v in 1 0 1 0; do
	g_hold "$chip" 0=$v
	wait_out 0 $v || bad=$((bad + 1))
	got=$(g_get "$chip" 1)
	[ "$got" = "$v" ] || bad=$((bad + 1))
	g_release
done
expect_eq "loop wiring: line 1 follows output line 0" 0 "$bad"

step "loop wiring: gpiomon sees the rising edges the guest makes"
rm -f /tmp/ev
(use_gen 2; exec_mon "$chip" rising 3 1) > /tmp/ev 2>&1 &
mpid=$!
wait_unmasked 1
bad=0
for v in 0 1 0 1 0 1 0; do
	g_hold "$chip" 0=$v
	wait_out 0 $v || bad=$((bad + 1))
	g_release
done
wait_dead $mpid $((STALL * 10)) || kill $mpid
expect_eq "loop wiring: gpiomon sees 3 rising edges the guest made itself" "3 0" \
	"$(grep -c ' rising$' /tmp/ev) $bad"

check "unload the $GV_driver driver" gv_unload
finish
