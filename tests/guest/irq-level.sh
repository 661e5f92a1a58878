#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# drivers: ours intree
# timeout: 240
# Level-triggered interrupts, requested by the test module gv-irqtest
# (userspace cannot ask for levels): while the level stays active the
# interrupt fires again after every unmask; once it is inactive, silence.
. /tests/lib.sh
. /tests/irq-common.sh

use_gen 2
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)

# level_case TYPE LINE ACTIVE: one trigger type on one line
level_case() {
	t=$1 l=$2 on=$3 off=$((1 - $3))
	hctl level "$l" "$off" >/dev/null
	check "level-$t: the test module requests the interrupt" \
		irqt_load "$chip" "$l" "$t" delay_ms=2 || return 1
	wait_unmasked "$l" >/dev/null
	sleep 0.5
	expect_eq "level-$t: no interrupt while the level is inactive" 0 "$(irqt_count)"

	hctl level "$l" "$on" >/dev/null
	c1=$(wait_count 1 $((STALL * 10)))
	c2=$(wait_count $((c1 + 1)) $((STALL * 10)))
	c3=$(wait_count $((c2 + 1)) $((STALL * 10)))
	[ "$c1" -ge 1 ]
	report $? "level-$t: the interrupt fires when the level becomes active" "count $c1"
	[ "$c3" -gt "$c2" ] && [ "$c2" -gt "$c1" ]
	report $? "level-$t: it fires again after each unmask while the level stays active" \
		"counts $c1, $c2, $c3"

	hctl level "$l" "$off" >/dev/null
	s1=$(settle)
	sleep 1
	s2=$(irqt_count)
	expect_eq "level-$t: silence once the level is inactive" "$s1" "$s2"
	wait_unmasked "$l" >/dev/null
	r=$(hctl get "$l")
	expect_eq "level-$t: the line is unmasked again (event buffer queued)" 0 \
		"$(field masked "$r")"
	ev=$(field events "$(hctl stats "$l")")
	expect_eq "level-$t: every event of the device was handled once" "$ev" "$(irqt_count)"

	# Nothing is latched for level types: an active period while the
	# interrupt is disabled leaves nothing behind.
	irqt_set count 0
	irqt_set enabled 0
	hctl level "$l" "$on" >/dev/null
	sleep 0.3
	hctl level "$l" "$off" >/dev/null
	sleep 0.3
	irqt_set enabled 1
	sleep 1
	expect_eq "level-$t: an active period while disabled leaves no interrupt behind" \
		0 "$(irqt_count)"

	# Active at request time: fires at once.
	check "level-$t: unload the test module" irqt_unload
	hctl level "$l" "$on" >/dev/null
	irqt_load "$chip" "$l" "$t" delay_ms=2
	c=$(wait_count 3 $((STALL * 10)))
	[ "$c" -ge 3 ]
	report $? "level-$t: a level already active when requested fires (and again)" "count $c"
	hctl level "$l" "$off" >/dev/null
	settle >/dev/null
	check "level-$t: unload the test module while idle" irqt_unload
	r=$(hctl get "$l")
	expect_eq "level-$t: the line's trigger is NONE after free_irq" none "$(field irq "$r")"
}

level_case high 3 1
level_case low 4 0

check "unload the $GV_driver driver" gv_unload
finish
