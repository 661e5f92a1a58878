#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8 --loop 0:1
# drivers: ours intree
# timeout: 600
# Edge events through the event virtqueue, counted where the driver ends and
# apart from that, where user space reads them.
#
# Delivery: the simulator pulses line 2 as fast as the driver re-arms the
# line (each edge waits for the line's event buffer, nothing waits for a
# reader). The edges the device sent, the interrupts the kernel handled
# (/proc/interrupts) and the edges gpiolib-cdev counted (the uAPI v2
# sequence number, which counts what its 16-event FIFO dropped too) must all
# be the number of edges made; what the reader got is reported beside them.
#
# Readers: gpiomon of both libgpiod generations counts the events of pulses
# paced for it, a batch that fits the FIFO at a time, each sent once gpiomon
# has printed every event so far; a gpiomon that stops making progress fails
# at once, with what the device sent and the kernel handled.
. /tests/lib.sh

PULSES=${PULSES:-1000}
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

# wait_ready FILE: wait for gvevents to print "ready" (bounded)
wait_ready() {
	_i=0
	while ! grep -q '^ready' "$1" 2>/dev/null; do
		[ $_i -ge 300 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

hctl level 2 0 >/dev/null
for e in rising falling both; do
	want=$((PULSES * $(per_pulse $e)))
	t="delivery, $e:"
	step "$t $PULSES pulses, nothing waiting for the reader"
	before=$(sim_events 2)
	rm -f /tmp/gve
	/tests/bin/gvevents "$chip" 2 $e $want $STALL > /tmp/gve 2>&1 &
	rpid=$!
	if ! wait_ready /tmp/gve || ! wait_unmasked 2; then
		report 1 "$t the reader is ready" "$(cat /tmp/gve)"
		kill $rpid 2>/dev/null
		continue
	fi
	HCTL_TIMEOUT=600 hctl pulse 2 $PULSES $PERIOD_US >/dev/null
	wait $rpid
	r=$(tail -n 1 /tmp/gve)
	sent=$(( $(sim_events 2) - before ))
	expect_eq "$t device sent, kernel handled, gpiolib-cdev counted $want edges" \
		"$want $want $want" "$sent $(field irqs "$r") $(field seqno "$r")"
	say "$t the reader got $(field read "$r"), gpiolib-cdev's FIFO dropped $(field dropped "$r") ($r)"
	[ "$(field read "$r")" = $(( $(field seqno "$r") - $(field dropped "$r") )) ]
	report $? "$t every edge was read or counted as dropped by gpiolib-cdev" "$r"
done

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
