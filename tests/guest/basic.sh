#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 32
# drivers: ours intree
# What every driver must do: the chip appears with the simulator's lines and
# names, and values round-trip on every line, with both libgpiod generations.
. /tests/lib.sh

N=32
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)

for gen in 1 2; do
	use_gen $gen
	t="gpiod$gen:"

	out=$(gpiodetect)
	echo "$out" | grep -q "^$chip .*($N lines)" ; report $? "$t gpiodetect lists $chip with $N lines" "$out"

	info=$(gpioinfo "$chip" 2>&1)
	[ $gen = 2 ] && info=$(gpioinfo -c "$chip" 2>&1)
	lines=$(echo "$info" | grep -cE '^[[:space:]]+line +[0-9]+:')
	expect_eq "$t gpioinfo shows $N lines" "$N" "$lines"
	bad=0
	for l in 0 1 7 31; do
		echo "$info" | grep -qE "^[[:space:]]+line +$l:[[:space:]]+\"GPIO$l\"" || bad=$((bad + 1))
	done
	expect_eq "$t gpioinfo shows the simulator's names" 0 "$bad"

	# Inputs: the host sets every level, gpioget reads them: all lines in
	# one request for both patterns, then each line on its own.
	bad=0
	for p in 0 1; do
		want=
		for l in $(seq 0 $((N - 1))); do
			v=$(( (l + p) % 2 ))
			hctl level "$l" $v >/dev/null || bad=$((bad + 1))
			want="$want $v"
		done
		got=$(g_get "$chip" $(seq 0 $((N - 1))))
		[ "$got" = "${want# }" ] || { bad=$((bad + 1)); echo "read '$got'" >&2; }
	done
	for l in $(seq 0 $((N - 1))); do
		got=$(g_get "$chip" "$l")
		[ "$got" = $(( (l + 1) % 2 )) ] || { bad=$((bad + 1)); echo "line $l read $got" >&2; }
	done
	expect_eq "$t gpioget reads the host's levels (0 and 1) on all $N lines" 0 "$bad"

	# Outputs: gpioset drives both patterns on all lines, the host sees
	# every value; then a few lines on their own.
	bad=0
	for p in 0 1; do
		args=
		for l in $(seq 0 $((N - 1))); do args="$args $l=$(( (l + p) % 2 ))"; done
		g_hold "$chip" $args
		for l in $(seq 0 $((N - 1))); do
			wait_out "$l" $(( (l + p) % 2 )) || bad=$((bad + 1))
		done
		g_release
	done
	for l in 0 9 $((N - 1)); do
		for v in 1 0; do
			g_hold "$chip" "$l=$v"
			wait_out "$l" $v || bad=$((bad + 1))
			g_release
		done
	done
	expect_eq "$t gpioset drives 0 and 1 on all $N lines, seen by the host" 0 "$bad"

	# Directions as gpioinfo shows them, and as the device sees them.
	g_hold "$chip" 5=1
	wait_out 5 1
	if [ $gen = 1 ]; then d=$(gpioinfo "$chip" | grep -E '^[[:space:]]+line +5:')
	else d=$(gpioinfo -c "$chip" 5); fi
	echo "$d" | grep -q output; report $? "$t gpioinfo shows a held line as output" "$d"
	g_release
	sleep 0.2
	r=$(hctl get 5)
	expect_eq "$t releasing a line sets its direction to none" none "$(field dir "$r")"
	g_get "$chip" 6 >/dev/null
	if [ $gen = 1 ]; then d=$(gpioinfo "$chip" | grep -E '^[[:space:]]+line +6:')
	else d=$(gpioinfo -c "$chip" 6); fi
	echo "$d" | grep -q input; report $? "$t gpioinfo shows a read line as input" "$d"
done

check "unload the $GV_driver driver" gv_unload
finish
