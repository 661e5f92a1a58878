#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The guest half of scripts/demo.sh (not a test suite: it has no "drivers"
# header, so tests/run.sh skips it). The simulator is a 16-line board
# (tests/data/demo-board.txt). Lines starting "GV-DEMO:" are cues for the
# host, which answers through the simulator's control socket:
#   GV-DEMO: leds          the LEDs are held; the host reads them
#   GV-DEMO: buttons L N   gpiomon waits on line L; the host presses it N
#                          times, then raises WAKE (line 15)
# With gv.demo=shell on the kernel command line it loads the driver and
# starts an interactive shell instead.
# shellcheck disable=SC2154 # GV_driver comes from the init, via lib.sh
. /tests/lib.sh

PRESSES=3

# show CMD...: run a command, its output as log lines; its exit status
show() {
	say "\$ $*"
	out=$("$@" 2>&1)
	rc=$?
	echo "$out" | while IFS= read -r l; do say "  $l"; done
	return $rc
}

poweroff_now() {
	echo "GV-END rc=$1"
	printf '\020' | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
	sleep 1
	reboot -f
}

shell_mode() {
	use_gen 2
	# hctl as a command, for the interactive shell
	cat > /usr/bin/hctl <<-'EOF'
	#!/bin/sh
	. /tests/lib.sh
	# one caller at a time here: no lock needed (busybox has no flock)
	command -v flock >/dev/null || flock() { return 0; }
	hctl "$@"
	EOF
	chmod 755 /usr/bin/hctl
	chip=$(gv_chip)
	cat <<-EOF

	========================================================================
	 gpio-virtio demo shell: $(uname -r), driver $(gv_modname) loaded,
	 $chip is a simulated 16-line board (LED0-3, BUTTON0-2, RESET, ...).
	 libgpiod 2.x tools are on PATH (1.6 tools: /opt/gpiod1/bin).
	 Things to try:
	   gpiodetect
	   gpioinfo -c $chip
	   gpioset -c $chip LED0=1 &      then: hctl get 0     (the simulator's view)
	   kill %1
	   gpiomon -c $chip -e rising -n 3 BUTTON0 &
	   hctl pulse 4 3 200000          (three presses of BUTTON0 from the "host")
	   cat /sys/kernel/debug/gpio     (the driver's view of the lines in use)
	   dmesg | grep -i gpio
	 hctl sends a command to the simulator's control socket (ping, get L,
	 level L 0|1, pulse L N PERIOD_US, stats, ...). Type exit to power off.
	========================================================================

	EOF
	setsid cttyhack env PS1='demo# ' sh
	poweroff_now 0
}

if ! gv_load >/tmp/load.log 2>&1; then
	say "loading the driver failed: $(cat /tmp/load.log)"
	report 1 "load the $GV_driver driver"
	finish
fi
grep -q 'gv.demo=shell' /proc/cmdline && shell_mode

chip=$(gv_chip)
report 0 "the driver ($(gv_modname)) is loaded and $chip appeared"
use_gen 2

say "--- 1. the chip, as libgpiod 2.x sees it"
show gpiodetect
report $? "gpiodetect"
show gpioinfo -c "$chip"
report $? "gpioinfo"

say "--- 2. LEDs: gpioset drives LED0 and LED2 high (and holds them)"
say "\$ gpioset -c $chip LED0=1 LED2=1 &"
gpioset -c "$chip" LED0=1 LED2=1 &
hold=$!
i=0
while [ $i -lt 100 ]; do
	r0=$(hctl get 0) && r2=$(hctl get 2) &&
		[ "$(field value "$r0")" = 1 ] && [ "$(field dir "$r2")" = out ] && break
	sleep 0.1
	i=$((i + 1))
done
[ $i -lt 100 ]
report $? "the simulator sees LED0 and LED2 driven high"
echo "GV-DEMO: leds"

say "--- 3. BUTTON0: gpiomon waits for $PRESSES presses (rising edges)"
say "\$ gpiomon -c $chip -e rising -n $PRESSES BUTTON0"
timeout 60 gpiomon -c "$chip" -e rising -n $PRESSES -F '%l %E (offset %o)' BUTTON0 \
	>/tmp/mon.out 2>&1 &
mon=$!
if wait_used "$chip" 4; then
	echo "GV-DEMO: buttons 4 $PRESSES"
fi
wait $mon
rc=$?
while IFS= read -r l; do say "  gpiomon: $l"; done </tmp/mon.out
n=$(grep -c 'BUTTON0 rising' /tmp/mon.out)
[ $rc = 0 ] && [ "$n" = $PRESSES ]
report $? "gpiomon saw $PRESSES button presses" "exit $rc, $n events"

say "--- 4. WAKE: the host raises it once its presses are done; gpioget reads it"
i=0
while [ $i -lt 150 ]; do
	v=$(gpioget --numeric -c "$chip" WAKE 2>&1) && [ "$v" = 1 ] && break
	sleep 0.1
	i=$((i + 1))
done
say "\$ gpioget --numeric -c $chip WAKE"
say "  $v"
expect_eq "gpioget reads WAKE as the host set it" 1 "$v"

say "--- 5. the driver's view of the lines in use (no request sent): LED0 and LED2 held"
say "\$ cat /sys/kernel/debug/gpio"
awk -v c="$chip" '$1 == c":" { on = 1; next } /^gpiochip/ { on = 0 } on' \
	/sys/kernel/debug/gpio > /tmp/dbg 2>&1
while IFS= read -r l; do say "  $l"; done < /tmp/dbg
[ "$(grep -cE '^ *line (0|2): dir 1 value 1 held 1' /tmp/dbg)" = 2 ]
report $? "the driver shows LED0 and LED2 as held outputs, high" "$(tr '\n' ' ' < /tmp/dbg)"
kill $hold 2>/dev/null
wait $hold 2>/dev/null
say "--- done"
finish
