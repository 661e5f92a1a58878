#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Helpers for the irq-*.sh suites (sourced; not a suite: no "drivers" header).
# The test module gv-irqtest requests one line's interrupt with any trigger
# type and counts the interrupts in /sys/kernel/debug/gv-irqtest/.
# shellcheck shell=sh

IRQT=/sys/kernel/debug/gv-irqtest

# chip_label CHIP: the gpio_chip label of gpiochipN (gpiodetect's [brackets])
chip_label() {
	gpiodetect | sed -n "s/^$1 \[\(.*\)\] .*/\1/p"
}

# irqt_load CHIP LINE TYPE [PARAM=VALUE...]: load gv-irqtest for a line
irqt_load() {
	_c=$1 _l=$2 _t=$3
	shift 3
	insmod /modules/gv-irqtest.ko chip="$(chip_label "$_c")" line="$_l" \
		type="$_t" "$@"
}

irqt_unload() {
	rmmod gv_irqtest
}

irqt_count() {
	cat "$IRQT/count"
}

irqt_set() {	# irqt_set FILE VALUE
	echo "$2" > "$IRQT/$1"
}

# wait_count N [TENTHS]: wait until the count reaches at least N; print it
wait_count() {
	_i=0
	while [ "$_i" -lt "${2:-50}" ]; do
		[ "$(irqt_count)" -ge "$1" ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	irqt_count
}

# settle: wait until the count stops changing (0.5 s apart); print it
settle() {
	_a=$(irqt_count)
	_i=0
	while [ "$_i" -lt 20 ]; do
		sleep 0.5
		_b=$(irqt_count)
		[ "$_a" = "$_b" ] && break
		_a=$_b
		_i=$((_i + 1))
	done
	echo "$_a"
}

# edges L N: N rising and N falling edges on line L's input through the
# simulator, without waiting for the line to be unmasked (events collapse)
edges() {
	_i=0
	while [ "$_i" -lt "$2" ]; do
		hctl level "$1" 1 >/dev/null && hctl level "$1" 0 >/dev/null || return 1
		_i=$((_i + 1))
	done
}

# i_mon GEN CHIP EDGES N LINE...: gpiomon of libgpiod generation GEN waits for
# N events and prints one "OFFSET rising|falling" line per event; killed
# after 300 s
i_mon() {
	_g=$1 _c=$2 _e=$3 _n=$4
	shift 4
	if [ "$_g" = 1 ]; then
		case "$_e" in
		rising) _f=-r ;;
		falling) _f=-f ;;
		*) _f= ;;
		esac
		# shellcheck disable=SC2086
		timeout 300 /opt/gpiod1/bin/gpiomon -n "$_n" $_f -F '%o %e' "$_c" "$@" |
			sed -e 's/ 1$/ rising/' -e 's/ 0$/ falling/'
	else
		timeout 300 /opt/gpiod2/bin/gpiomon -n "$_n" -e "$_e" -F '%o %E' \
			-c "$_c" "$@"
	fi
}

# stop_mon: end every gpiomon still running (a gpiomon in a pipeline outlives
# the timeout or shell that started it) and wait until its lines are free
stop_mon() {
	# shellcheck disable=SC2046
	kill $(pidof gpiomon) 2>/dev/null
	_i=0
	while pidof gpiomon >/dev/null && [ "$_i" -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

sysfs_write() {	# sysfs_write FILE VALUE
	echo "$2" > "$1"
}

# old_gpiolib: the guest kernel's gpiolib-cdev (before 6.7, e.g. 6.1) neither
# wakes a waiting reader nor frees a line request's interrupt when its chip
# goes away; gpiochip_remove() then warns from remove_proc_entry() whatever
# the driver does.
old_gpiolib() {
	case "$(cut -d ' ' -f 1 /etc/gv-kernel)" in
	5.*|6.[0-6]) return 0 ;;
	esac
	return 1
}

