#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# drivers: ours intree
# timeout: 300
# The GPIO uAPI v2 on the chip, beyond what libgpiod's tools do: a held line
# reconfigured (direction flips, edge detection changed and removed),
# gpiolib's software debounce, open-drain and open-source emulation,
# active-low, bias flags, line-info watch events, the realtime event clock,
# and the sysfs interface where the kernel has it. Every step is checked at
# the device (the simulator's line state and counters) as well as in user
# space. tests/bin/gvuapi holds one line request open and takes one command
# at a time through a FIFO, so the host can act between two ioctls.
#
# Lines: 0 sysfs, 1 direction flips, 2 edge changes, 3 debounce,
# 4 open-drain, 5 open-source, 6 active-low, 7 bias, watch and clocks.
#
# Events here are paced (pulse waits until the driver has re-armed the line
# before each edge that makes an event): the checks are about what gpiolib
# asks of the driver and what user space sees, not about the driver's rate.
. /tests/lib.sh

# A wait for one reply of gvuapi, beyond the command's own timeout
UTO=$((STALL + 10))
DEBOUNCE_US=200000

# A writer that has gone away must not kill the suite with SIGPIPE.
trap '' PIPE

# u_start: start gvuapi on the chip, its commands through FIFOs (fd 3 and 4)
u_start() {
	rm -f /tmp/u.in /tmp/u.out
	mkfifo /tmp/u.in /tmp/u.out
	/tests/bin/gvuapi "$chip" < /tmp/u.in > /tmp/u.out 2> /tmp/u.err &
	UPID=$!
	exec 3> /tmp/u.in 4< /tmp/u.out
}

# u_stop: end gvuapi (its requests are released when it exits)
u_stop() {
	u quit
	exec 3>&- 4<&-
	wait_dead "$UPID" 50 || say "gvuapi $UPID did not end: $(pstate "$UPID")"
}

# u CMD...: one gvuapi command; its reply in U ("ok ...", "err ENAME")
u() {
	U=
	if ! echo "$*" >&3 || ! read -r -t "$UTO" U <&4; then
		U="no reply to '$*' within ${UTO}s (gvuapi: $(pstate $UPID) $(cat /tmp/u.err))"
	fi
}

# dev_state L FIELD...: "FIELD=V ..." from the simulator's get L
dev_state() {
	_l=$1
	shift
	_r=$(hctl get "$_l") || { echo "no reply from the simulator"; return; }
	_o=
	for _f in "$@"; do _o="$_o $_f=$(field "$_f" "$_r")"; done
	echo "${_o# }"
}

# wait_dev L "F=V ...": wait (5 s at most) until the device shows these
# values on line L; DEV is what it showed last
wait_dev() {
	_fields=$(echo "$2" | sed 's/=[^ ]*//g')
	_i=0
	while :; do
		# shellcheck disable=SC2086
		DEV=$(dev_state "$1" $_fields)
		[ "$DEV" = "$2" ] && return 0
		[ $_i -ge 50 ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# requests [L]: the requests the device has answered (on line L)
requests() { field requests "$(hctl stats ${1:+"$1"})"; }
# sim_events L: the events the device has sent on line L
sim_events() { field events "$(hctl stats "$1")"; }

# has FLAGS WORD: the "+"-joined FLAGS of gvuapi include WORD
has() {
	case "+$1+" in *"+$2+"*) return 0 ;; esac
	return 1
}

# ev_read WANT: read the WANT events expected (3 s at most between two),
# then any more that come within 300 ms; EV_N, EV_R, EV_F: the events read,
# rising and falling
ev_read() {
	u events "$1" 3000
	EV_N=$(field n "$U")
	EV_R=$(field rising "$U")
	EV_F=$(field falling "$U")
	u events 4 300
	EV_N=$((EV_N + $(field n "$U")))
	EV_R=$((EV_R + $(field rising "$U")))
	EV_F=$((EV_F + $(field falling "$U")))
}

# part NAME: the suite enters part NAME; the time each part took is logged
# at the end (the suite's share of CI's budget)
PARTS=
part() {
	uptime_ms
	[ -n "$PARTS" ] && PARTS="$PARTS $((UPTIME_MS - _part_t0)) ms;"
	PARTS="$PARTS $1"
	_part_t0=$UPTIME_MS
}

# clock_ns CLOCK: the guest's rt or mono clock through gvuapi, in ns
clock_ns() { u clock; field "$1" "$U"; }

check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)
u_start

part directions
# --- GPIO_V2_LINE_SET_CONFIG_IOCTL on a held line: direction flips (line 1)
t="SET_CONFIG while held:"
hctl level 1 1 >/dev/null
u req 1 in
wait_dev 1 "dir=in"
r1="$U $DEV"
u get
expect_eq "$t requested as input: an input at the device, reads the host's 1" \
	"ok dir=in ok 1" "$r1 $U"
u cfg out out=1
wait_dev 1 "dir=out value=1"
expect_eq "$t input -> output 1: the device drives 1" "ok dir=out value=1" "$U $DEV"
u get
expect_eq "$t the output reads back 1" "ok 1" "$U"
hctl level 1 0 >/dev/null
u cfg in
wait_dev 1 "dir=in"
r1="$U $DEV"
u get
expect_eq "$t output -> input: an input at the device, reads the host's 0" \
	"ok dir=in ok 0" "$r1 $U"
u cfg out out=0
wait_dev 1 "dir=out value=0"
expect_eq "$t input -> output 0: the device drives 0" "ok dir=out value=0" "$U $DEV"
u set 1
wait_dev 1 "dir=out value=1"
expect_eq "$t set 1 on the reconfigured output: the device drives 1" "ok dir=out value=1" "$U $DEV"
q0=$(requests)
u cfg out,rising
q1=$(requests)
wait_dev 1 "dir=out value=1"
expect_eq "$t output with edge detection: EINVAL, no request to the device, the line unchanged" \
	"err EINVAL +0 dir=out value=1" "$U +$((q1 - q0)) $DEV"
u release
wait_dev 1 "dir=none"
expect_eq "$t released: no direction at the device" "ok dir=none" "$U $DEV"

part edges
# --- edge detection changed and removed while held (line 2)
# edge_round PULSES WANT SIDES: PULSES pulses on line 2 (WANT events
# expected), then one more made of two level steps, each followed by a
# wait for one event (3 s where SIDES expects one, 400 ms where not):
# which edge gave an event tells the device's type apart, where the counts
# cannot (gpiolib-cdev names a one-edge request's events by the edge
# requested, whichever edge raised them). EV: the events user space read,
# those the device sent, and the edges that gave an event (SIDES is "up-",
# "-down", "updown" or "--").
edge_round() {
	_d0=$(sim_events 2)
	hctl pulse 2 "$1" 2000 >/dev/null
	ev_read "$2"
	EV="n=$EV_N rising=$EV_R falling=$EV_F"
	_sides=
	for _v in 1 0; do
		hctl level 2 $_v >/dev/null
		_to=400
		case "$_v$3" in 1up*|0*down) _to=3000 ;; esac
		u events 1 $_to
		_e=-
		[ "$(field n "$U")" = 1 ] && _e=$([ $_v = 1 ] && echo up || echo down)
		_sides="$_sides$_e"
	done
	EV="$EV device=$(($(sim_events 2) - _d0)) edges=$_sides"
}
t="SET_CONFIG edges:"
hctl level 2 0 >/dev/null
u req 2 in,rising
wait_dev 2 "dir=in irq=rising masked=0"
expect_eq "$t rising requested: the device has type rising, a buffer queued" \
	"ok dir=in irq=rising masked=0" "$U $DEV"
edge_round 4 4 up-
expect_eq "$t rising: 4 pulses give 4 rising events; of a rise and a fall after them only the rise raises one (5 sent)" \
	"n=4 rising=4 falling=0 device=5 edges=up-" "$EV"
u cfg in,falling
wait_dev 2 "irq=falling masked=0"
expect_eq "$t rising -> falling while held: the device has type falling" \
	"ok irq=falling masked=0" "$U $DEV"
edge_round 4 4 -down
expect_eq "$t falling: 4 pulses give 4 falling events; of a rise and a fall after them only the fall raises one (5 sent)" \
	"n=4 rising=0 falling=4 device=5 edges=-down" "$EV"
u cfg in,both
wait_dev 2 "irq=both masked=0"
expect_eq "$t falling -> both while held: the device has type both" \
	"ok irq=both masked=0" "$U $DEV"
edge_round 3 6 updown
# A virtio event carries no level: gpiolib names a both-edge event by
# reading the line afterwards, so a pulse 2 ms wide may be named wrong
# (documented); the count is what the driver answers for.
say "$t both: named $EV"
expect_eq "$t both: 3 pulses give 6 events; a rise and a fall raise one each (8 sent)" \
	"n=6 device=8 edges=updown" "$(echo "$EV" | sed 's/ rising=[0-9]* falling=[0-9]*//')"
u cfg in
wait_dev 2 "dir=in irq=none"
expect_eq "$t edge detection removed while held: type none at the device, still an input" \
	"ok dir=in irq=none" "$U $DEV"
edge_round 3 0 --
expect_eq "$t removed: 3 pulses, a rise and a fall: no event read, none sent" \
	"n=0 rising=0 falling=0 device=0 edges=--" "$EV"
u cfg in,rising
wait_dev 2 "irq=rising masked=0"
r1="$U $DEV"
edge_round 2 2 up-
expect_eq "$t detection added again: type rising; 2 pulses give 2 events; only the rise raises one (3 sent)" \
	"ok irq=rising masked=0 n=2 rising=2 falling=0 device=3 edges=up-" "$r1 $EV"
u release
wait_dev 2 "dir=none irq=none"
expect_eq "$t released: no direction, type none at the device" "ok dir=none irq=none" "$U $DEV"

part debounce
# --- debounce: gpiolib debounces in software (line 3)
t="debounce:"
hctl level 3 0 >/dev/null
u req 3 in,both debounce=$DEBOUNCE_US
wait_dev 3 "dir=in irq=both masked=0"
r1="$U $DEV"
u info 3
expect_eq "$t requested (${DEBOUNCE_US} us, both edges): the device has type both; line info shows the period" \
	"ok dir=in irq=both masked=0 $DEBOUNCE_US" "$r1 $(field debounce "$U")"
# Each level held until its event came (bounded): an event for every level
# change, each at least half the debounce period after the edge. Not the
# whole period: the debouncer's delayed work counts timer ticks from the
# jiffies it reads, which may lag the clock (by up to a tick, and under TCG
# on a loaded host by tens of ms: seen 180.8 ms for 200 ms). A debouncer
# that waited a tenth of the period, or none, still fails. gvuapi sends
# the level to the simulator itself, so the edge is known to lie between
# two reads of the guest's clock a few ms apart (a shell's hctl takes
# longer than the period under TCG).
bad=
n=0
wmax=0
dts=
d0=$(sim_events 3)
q0=$(requests 3)
for i in 1 2 3; do
	for v in 1 0; do
		u host level 3 $v
		t0=$(field t0 "$U")
		t1=$(field t1 "$U")
		case "$U" in "ok "*"reply: ok"*) ;; *) bad="$bad level $v: $U;"; continue ;; esac
		[ $((t1 - t0)) -gt $wmax ] && wmax=$((t1 - t0))
		u events 1 $((DEBOUNCE_US / 1000 + 3000))
		ts=$(field ts "$U")
		e=rising
		[ $v = 0 ] && e=falling
		if [ "$(field n "$U")" != 1 ] || [ "$(field $e "$U")" != 1 ]; then
			bad="$bad level $v: $U;"
			continue
		fi
		n=$((n + 1))
		dts="$dts $(((ts - t0) / 1000))"
		if [ $(((ts - t0) / 1000)) -lt $((DEBOUNCE_US / 2)) ] ||
			[ $(((ts - t1) / 1000)) -gt $((DEBOUNCE_US + 3000000)) ]; then
			bad="$bad level $v: event $(((ts - t0) / 1000)) us after the command, $(((ts - t1) / 1000)) us after its reply;"
		fi
	done
done
d1=$(sim_events 3)
q1=$(requests 3)
expect_eq "$t 3 pulses longer than the period: 6 events, each half the period to 3 s after its edge; 6 sent" \
	"6 6 in time" "$n $((d1 - d0)) ${bad:-in time}"
say "$t events came$dts us after the commands; the edges' windows (command to reply) were at most $((wmax / 1000)) us wide"
expect_eq "$t the debouncer read each settled level once: 6 requests on the line" 6 $((q1 - q0))
# Glitches: 5 pulses 1 ms high (each edge waits for the re-armed line),
# shorter than the period: no event; the device sent 10.
hctl reset-stats >/dev/null
hctl pulse 3 5 2000 >/dev/null
u events 1 $((DEBOUNCE_US * 3 / 1000))
r1=$U
d1=$(sim_events 3)
# The glitches' widths, from the device's edge times (ns)
w=$(field t "$(hctl edgetimes 3)" | tr ',' ' ' |
	awk '{ for (i = 1; i + 1 <= NF; i += 2) { w = ($(i + 1) - $i) / 1000; if (w > m) m = w }; print int(m) }')
say "$t the widest glitch at the device: ${w:-?} us"
[ "${w:-999999999}" -lt $((DEBOUNCE_US / 2)) ]
report $? "$t the glitches were shorter than half the period" "the widest ${w:-?} us"
u get
expect_eq "$t 5 glitches: no event read, 10 edges sent, the value read is still 0" \
	"n=0 10 ok 0" "n=$(field n "$r1") $d1 $U"
say "$t $(field requests "$(hctl stats 3)") requests on line 3 for the glitches and the read"
# Debounce removed while held: plain edge detection, every edge an event.
u cfg in,both
wait_dev 3 "irq=both masked=0"
r1="$U $DEV"
d0=$(sim_events 3)
hctl pulse 3 2 2000 >/dev/null
ev_read 4
r2="n=$EV_N $(($(sim_events 3) - d0))"
u info 3
expect_eq "$t removed while held: no period in line info; 2 glitches give 4 events, 4 sent" \
	"ok irq=both masked=0 0 n=4 4" "$r1 $(field debounce "$U") $r2"
u release

part open-drain/source
# --- open-drain and open-source emulation (lines 4 and 5): gpiolib makes
# the line an input for the level the output must not drive
t="open-drain:"
hctl level 4 0 >/dev/null
u req 4 out,open-drain out=0
wait_dev 4 "dir=out value=0"
expect_eq "$t requested at 0: the device drives 0" "ok dir=out value=0" "$U $DEV"
u set 1
wait_dev 4 "dir=in"
expect_eq "$t 1: the line is released (an input at the device)" "ok dir=in" "$U $DEV"
hctl level 4 0 >/dev/null
u get
r1=$U
hctl level 4 1 >/dev/null
u get
expect_eq "$t released, the value read is the wire's (another driver pulls 0, then lets go)" \
	"ok 0 ok 1" "$r1 $U"
u set 0
wait_dev 4 "dir=out value=0"
expect_eq "$t 0 again: the device drives 0" "ok dir=out value=0" "$U $DEV"
u info 4
f=$(field flags "$U")
has "$f" out && has "$f" open-drain
report $? "$t line info: an open-drain output" "$U"
u release
u req 4 out,open-drain out=1
wait_dev 4 "dir=in"
expect_eq "$t requested at 1: an input at the device from the start" "ok dir=in" "$U $DEV"
u release

t="open-source:"
hctl level 5 0 >/dev/null
u req 5 out,open-source out=1
wait_dev 5 "dir=out value=1"
expect_eq "$t requested at 1: the device drives 1" "ok dir=out value=1" "$U $DEV"
u set 0
wait_dev 5 "dir=in"
expect_eq "$t 0: the line is released (an input at the device)" "ok dir=in" "$U $DEV"
hctl level 5 1 >/dev/null
u get
expect_eq "$t released, the value read is the wire's (another driver pulls 1)" "ok 1" "$U"
hctl level 5 0 >/dev/null
u set 1
wait_dev 5 "dir=out value=1"
expect_eq "$t 1 again: the device drives 1" "ok dir=out value=1" "$U $DEV"
u release
u req 5 out,open-source out=0
wait_dev 5 "dir=in"
expect_eq "$t requested at 0: an input at the device from the start" "ok dir=in" "$U $DEV"
u release

part active-low
# --- active-low (line 6)
t="active-low:"
hctl level 6 1 >/dev/null
u req 6 in,active-low
u get
r1=$U
hctl level 6 0 >/dev/null
u get
expect_eq "$t input: the host's 1 reads 0, its 0 reads 1" "ok 0 ok 1" "$r1 $U"
u cfg out,active-low out=1
wait_dev 6 "dir=out value=0"
expect_eq "$t output 1: the device drives 0" "ok dir=out value=0" "$U $DEV"
u set 0
wait_dev 6 "dir=out value=1"
expect_eq "$t output 0: the device drives 1" "ok dir=out value=1" "$U $DEV"
# A rising edge of the active-low value is a falling one at the device.
u cfg in,active-low,rising
wait_dev 6 "dir=in irq=falling masked=0"
r1="$U $DEV"
d0=$(sim_events 6)
hctl pulse 6 3 2000 >/dev/null
ev_read 3
expect_eq "$t rising edges requested: type falling at the device; 3 pulses give 3 rising events, 3 sent" \
	"ok dir=in irq=falling masked=0 n=3 rising=3 3" \
	"$r1 n=$EV_N rising=$EV_R $(($(sim_events 6) - d0))"
u release

part bias
# --- bias flags (line 7): the driver has no set_config. gpiolib treats bias
# as optional: -ENOTSUPP from the chip is not passed on, the request
# succeeds and the device sees no request for the bias.
t="bias:"
hctl level 7 1 >/dev/null
u req 7 in
wait_dev 7 "dir=in"
q0=$(requests)
u cfg in
q1=$(requests)
base=$((q1 - q0))
say "$t the same input config again: $base requests"
for b in pull-up pull-down bias-off; do
	q0=$(requests)
	u cfg in,$b
	q1=$(requests)
	r1=$U
	u get
	wait_dev 7 "dir=in"
	expect_eq "$t $b on a held input: accepted, no request beyond the config's ($base), an input reading 1" \
		"ok +$base dir=in ok 1" "$r1 +$((q1 - q0)) $DEV $U"
done
u info 7
say "$t line info after bias-off: $U (gpiolib keeps the flag the chip could not apply)"
u release
for b in pull-up pull-down bias-off; do
	q0=$(requests)
	u req 7 out,$b out=1
	q1=$(requests)
	wait_dev 7 "dir=out value=1"
	expect_eq "$t an output requested with $b: accepted, driven at 1" \
		"ok dir=out value=1" "$U $DEV" "$((q1 - q0)) requests"
	u release
done
# Refused by gpiolib before the driver is asked: no request at all.
for c in "in,pull-up,pull-down EINVAL" "pull-up EINVAL" "in,hte EOPNOTSUPP"; do
	q0=$(requests)
	u req 7 "${c% *}"
	q1=$(requests)
	expect_eq "$t request '${c% *}': ${c#* }, no request to the device" \
		"err ${c#* } +0" "$U +$((q1 - q0))"
done
wait_dev 7 "dir=none"
expect_eq "$t after the refused requests: the line has no direction" "dir=none" "$DEV"

part watch
# --- line-info watch (line 7)
t="line-info watch:"
u watch 7
w1=$U
u req 7 in
u cfg out out=1
u release
u changes 3 3000
w2=$U
u changes 1 300
expect_eq "$t request, reconfigure, release: 3 events in order, nothing more" \
	"ok n=3 kinds=requested,config,released +0" \
	"$(echo "$w1" | cut -c1-2) n=$(field n "$w2") kinds=$(field kinds "$w2") +$(field n "$U")"
f=$(field flags "$w2")
# shellcheck disable=SC2046
set -- $(echo "$f" | tr '/' ' ')
has "$1" used && has "$1" in && has "$2" used && has "$2" out && ! has "$3" used
report $? "$t the events carry the line's state: used input, used output, released" "$f"
u unwatch 7
r1=$U
u req 7 in
u release
u changes 4 500
expect_eq "$t unwatched: no event for a request and release" "ok n=0" "$r1 n=$(field n "$U")"

part clock
# --- the event clock (line 7)
t="event clock:"
hctl level 7 0 >/dev/null
u req 7 in,rising,realtime
wait_dev 7 "irq=rising masked=0"
u clock
lo=$(field rt "$U")
hctl pulse 7 2 2000 >/dev/null
u events 2 3000
ev=$U
u clock
hi=$(field rt "$U")
bad=
for x in $(field ts "$ev" | tr ',' ' '); do
	{ [ "$x" -ge "$lo" ] && [ "$x" -le "$hi" ]; } || bad="$bad $x"
done
expect_eq "$t realtime: 2 events, timestamps within CLOCK_REALTIME before the pulses and after the read" \
	"n=2 out of window:" "n=$(field n "$ev") out of window:$bad" \
	"window $lo..$hi ($(((hi - lo) / 1000000)) ms), ts $(field ts "$ev")"
u cfg in,rising
wait_dev 7 "irq=rising masked=0"
u clock
lo=$(field mono "$U")
hctl pulse 7 2 2000 >/dev/null
u events 2 3000
ev=$U
u clock
hi=$(field mono "$U")
bad=
for x in $(field ts "$ev" | tr ',' ' '); do
	{ [ "$x" -ge "$lo" ] && [ "$x" -le "$hi" ]; } || bad="$bad $x"
done
expect_eq "$t realtime removed while held: 2 events, timestamps within CLOCK_MONOTONIC's window" \
	"n=2 out of window:" "n=$(field n "$ev") out of window:$bad" \
	"window $lo..$hi ($(((hi - lo) / 1000000)) ms), ts $(field ts "$ev")"
u release
u_stop

part sysfs
# --- the sysfs interface (line 0)
t="sysfs:"
vdev=
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d/$chip" ] && vdev=$d
done
base=
# The chip's sysfs node sits under its parent device (the virtio device),
# or under the gpiochip device when the driver sets no parent.
for d in "$vdev"/gpio/gpiochip* "$vdev/$chip"/gpio/gpiochip*; do
	[ -r "$d/base" ] && base=$(cat "$d/base")
done
if [ ! -w /sys/class/gpio/export ] || [ -z "$base" ]; then
	for d in "export: no direction at the device until one is set, direction reads in" \
		"direction out: the device drives 0" "value 1: the device drives 1" \
		"direction in: an input at the device, value reads the host's levels" \
		"edge rising: type rising at the device, 3 pulses wake 3 polls" \
		"edge none: type none at the device, no wake-up for a pulse" \
		"active_low 1: the host's 1 reads 0" "unexport: no direction at the device"; do
		skip "$t $d" "no /sys/class/gpio/export (CONFIG_GPIO_SYSFS) or no gpiochip base in $vdev/gpio"
	done
else
	# The node is gpioN, or on kernels before 7.x the line's name when the
	# driver gives gpiolib its names in gpio_chip.names (the in-tree peer).
	before=" "
	for n in /sys/class/gpio/*; do before="$before${n##*/} "; done
	hctl level 0 0 >/dev/null
	echo $((base + 0)) > /sys/class/gpio/export
	# shellcheck disable=SC2320
	rc=$?
	g=
	for n in /sys/class/gpio/*; do
		case "$before" in *" ${n##*/} "*) ;; *) g=$n ;; esac
	done
	say "$t line 0 (number $base) exported as ${g:-nothing}"
	wait_dev 0 "dir=none"
	expect_eq "$t export: no direction at the device until one is set, direction reads in" \
		"0 dir=none in" "$rc $DEV $(cat "$g/direction" 2>/dev/null)"
	echo out > "$g/direction"
	wait_dev 0 "dir=out value=0"
	expect_eq "$t direction out: the device drives 0" "dir=out value=0" "$DEV"
	echo 1 > "$g/value"
	wait_dev 0 "dir=out value=1"
	expect_eq "$t value 1: the device drives 1, reads back 1" "dir=out value=1 1" "$DEV $(cat "$g/value")"
	echo in > "$g/direction"
	wait_dev 0 "dir=in"
	r1="$DEV $(cat "$g/value")"
	hctl level 0 1 >/dev/null
	expect_eq "$t direction in: an input at the device, value reads the host's levels" \
		"dir=in 0 1" "$r1 $(cat "$g/value")"
	hctl level 0 0 >/dev/null
	echo rising > "$g/edge"
	wait_dev 0 "irq=rising masked=0"
	r1=$DEV
	d0=$(sim_events 0)
	u_start
	n=0
	u sysopen "$g/value"
	# shellcheck disable=SC2034
	for i in 1 2 3; do
		hctl pulse 0 1 2000 >/dev/null
		u syspoll 3000
		[ "$(echo "$U" | cut -d' ' -f2)" = event ] && n=$((n + 1))
	done
	u_stop
	expect_eq "$t edge rising: type rising at the device, 3 pulses wake 3 polls, 3 sent" \
		"irq=rising masked=0 3 3" "$r1 $n $(($(sim_events 0) - d0))"
	echo none > "$g/edge"
	wait_dev 0 "irq=none"
	r1=$DEV
	u_start
	u sysopen "$g/value"
	hctl pulse 0 1 2000 >/dev/null
	u syspoll 1000
	r2=$U
	u_stop
	expect_eq "$t edge none: type none at the device, no wake-up for a pulse" \
		"irq=none ok none 0" "$r1 $r2"
	hctl level 0 1 >/dev/null
	echo 1 > "$g/active_low"
	expect_eq "$t active_low 1: the host's 1 reads 0" 0 "$(cat "$g/value")"
	echo 0 > "$g/active_low"
	echo $((base + 0)) > /sys/class/gpio/unexport
	# shellcheck disable=SC2320
	rc=$?
	wait_dev 0 "dir=none"
	expect_eq "$t unexport: no direction at the device" "0 dir=none" "$rc $DEV"
fi

# The chip-relative interface of later kernels: /sys/class/gpio/chipN takes
# offsets, and an exported line's attributes are in chipN/gpioOFFSET.
cdir=
for d in "$vdev"/gpio/chip[0-9]* "$vdev/$chip"/gpio/chip[0-9]*; do
	[ -w "$d/export" ] && cdir=$d
done
d="chip interface: export offset 0, direction out, value 1, unexport: the device follows"
if [ -z "$cdir" ]; then
	skip "$t $d" "this kernel has no chipN/export in sysfs"
else
	hctl level 0 0 >/dev/null
	echo 0 > "$cdir/export"
	# shellcheck disable=SC2320
	r1=$?
	echo out > "$cdir/gpio0/direction"
	wait_dev 0 "dir=out value=0"
	r1="$r1 $DEV"
	echo 1 > "$cdir/gpio0/value"
	wait_dev 0 "dir=out value=1"
	r1="$r1 $DEV $(cat "$cdir/gpio0/value")"
	echo 0 > "$cdir/unexport"
	# shellcheck disable=SC2320
	r2=$?
	wait_dev 0 "dir=none"
	expect_eq "$t $d" "0 dir=out value=0 dir=out value=1 1 0 dir=none" "$r1 $r2 $DEV"
fi

part end
say "time per part:${PARTS% end}"
check "unload the $GV_driver driver" gv_unload
finish
