# SPDX-License-Identifier: GPL-2.0
# Guest-side helpers sourced by every test script (busybox ash).
# shellcheck shell=sh

GV_driver=${GV_driver:-ours}
FAILED=0
# How long a wait may go without progress before it counts as a stall
# (seconds); the debug kernel is several times slower.
STALL=20
[ "${GV_debug:-0}" = 1 ] && STALL=60
XFAIL_REASON=

say() { echo "GV-LOG: $*"; }

# step DESCRIPTION: what the suite does next. The host counts GV lines as
# the guest's progress, and names the last step when a boot runs out of
# time; long loops call it (or say) now and then.
step() { echo "GV-STEP: $*"; }

# Report one result. A failure after xfail_peer (with the in-tree driver) is
# the peer's known gap: it is reported by name as a TODO, not hidden.
report() {	# report 0|1 DESCRIPTION [DETAIL]
	if [ "$1" = 0 ]; then
		if [ -n "$XFAIL_REASON" ]; then
			echo "GV: ok - $2 # TODO unexpected pass of the peer: $XFAIL_REASON"
		else
			echo "GV: ok - $2"
		fi
	elif [ -n "$XFAIL_REASON" ]; then
		echo "GV: not ok - $2 # TODO expected failure of the peer: $XFAIL_REASON${3:+ ($3)}"
	else
		echo "GV: not ok - $2${3:+ ($3)}"
		FAILED=$((FAILED + 1))
	fi
	XFAIL_REASON=
}

# The next report, with the in-tree driver, is a known failure of the peer.
xfail_peer() {
	[ "$GV_driver" = intree ] && XFAIL_REASON=$1
	return 0
}

check() {	# check DESCRIPTION COMMAND...: pass when the command succeeds
	d=$1
	shift
	step "$d"
	if out=$("$@" 2>&1); then
		report 0 "$d"
	else
		report 1 "$d" "$(echo "$out" | tail -n 3 | tr '\n' ' ')"
	fi
}

expect_eq() {	# expect_eq DESCRIPTION EXPECTED ACTUAL [DETAIL]
	if [ "$2" = "$3" ]; then
		report 0 "$1"
	else
		report 1 "$1" "expected '$2', got '$3'${4:+; $4}"
	fi
}

skip() {	# skip DESCRIPTION REASON: a check this kernel cannot run
	echo "GV: ok - $1 # SKIP $2"
}

# finish: the suite's last check, that the simulator accepted every command
# the suite sent it (a setup step that failed would make a later check
# measure something else), then the suite's exit status
finish() {
	if [ -s /tmp/hctl.fail ]; then
		report 1 "every simulator command of the suite was accepted" \
			"$(wc -l < /tmp/hctl.fail) refused: $(head -n 3 /tmp/hctl.fail | tr '\n' ';')"
	else
		report 0 "every simulator command of the suite was accepted"
	fi
	[ "$FAILED" = 0 ]
	exit $?
}

# --- kmemleak (the debug kernel)
KMEMLEAK=/sys/kernel/debug/kmemleak

# kmemleak_scan: find what leaked until now. kmemleak reports an object
# only when it is older than five seconds and was unchanged since the scan
# before, so one scan is not enough.
kmemleak_scan() {
	echo scan > "$KMEMLEAK" || return 1
	sleep 5
	echo scan > "$KMEMLEAK"
}

# kmemleak_state: "active", or why kmemleak cannot find a leak (non-zero
# then): its file is missing, it refuses commands (kmemleak disables itself
# after an internal error, or with kmemleak=off, and then answers every
# write but "clear" with EPERM), or the kernel said it stopped. A scan of a
# disabled kmemleak finds nothing, which would pass every leak check.
kmemleak_state() {
	if [ ! -e "$KMEMLEAK" ]; then
		echo "$KMEMLEAK does not exist"
		return 1
	fi
	if ! _ks_err=$( { echo scan=off > "$KMEMLEAK"; } 2>&1); then
		echo "it refuses commands: ${_ks_err:-write failed}"
		return 1
	fi
	_ks_msg=$(dmesg | grep -E 'kmemleak: (Kernel memory leak detector disabled|Cannot allocate a kmemleak_object|Failed to create the scan thread)' | head -n 1)
	if [ -n "$_ks_msg" ]; then
		echo "the kernel said: $_ks_msg"
		return 1
	fi
	echo active
}

# kmemleak_report: print, in full, every leak whose allocation went through
# the driver under test (its module name is in the backtrace, or a frame has
# no symbol: the module that allocated it is gone), which fails the boot in
# the host's console check. Leaks of the kernel's own are listed
# by allocation site only (7.2's gpiolib, for one, loses a line's label when
# the chip goes while the line is held, with either driver).
kmemleak_report() {
	awk '
	function flush() {
		if (rec == "")
			return
		if (rec ~ /\[gpio_virtio/ || nosym)
			printf "%s", rec
		else
			printf "GV-LOG: kmemleak, not the driver: %s\n", site
		rec = ""; site = ""; bt = 0; nosym = 0
	}
	/^unreferenced object/ { flush() }
	{ rec = rec $0 "\n" }
	/^  backtrace/ { bt = 1; next }
	bt {
		f = $1
		if (f ~ /^\[</)
			f = $2
		if (f ~ /^0x[0-9a-f]+$/)
			nosym = 1
	}
	bt && site == "" {
		if (f !~ /^(__)?(kmalloc|kmem_cache|kstrdup|kmemdup|krealloc|kvmalloc|kzalloc|alloc_pages|__alloc|slab)/)
			site = f
	}
	END { flush() }' "$KMEMLEAK"
}

# --- the simulator's control socket, reached through the second serial port
# (the guest's ttyS1, ttyAMA1 on arm64, is QEMU's client connection to the
# simulator's control socket). Calls from several processes are serialised with a lock so that
# each reads its own reply.

# hctl COMMAND...: run one simulator command; the reply (without "ok ") goes
# to stdout; non-zero when the simulator answered an error or nothing. Such
# a command is also noted in /tmp/hctl.fail, which fails the suite at its
# finish, unless HCTL_MAYFAIL=1 says the caller expects it (a simulator
# that is restarting, a command that ends the simulator).
hctl() {
	local rc owner me nopid=0
	# This process's own pid ($$ is the main shell's in a subshell too).
	read -r me _ < /proc/self/stat
	# busybox-static has no flock: a directory is the lock, holding the
	# owner's pid so that a lock left by a killed caller is taken over (also
	# one without a pid for long: its owner died before writing it).
	while ! mkdir /tmp/hctl.lock 2>/dev/null; do
		owner=$(cat /tmp/hctl.lock/pid 2>/dev/null)
		[ -n "$owner" ] && nopid=0 || nopid=$((nopid + 1))
		if { [ -n "$owner" ] && ! kill -0 "$owner" 2>/dev/null &&
			[ "$(cat /tmp/hctl.lock/pid 2>/dev/null)" = "$owner" ]; } ||
			[ $nopid -gt 300 ]; then
			nopid=0
			# Take it over by renaming: of several callers, one wins.
			mv /tmp/hctl.lock "/tmp/hctl.stale.$me" 2>/dev/null &&
				rm -rf "/tmp/hctl.stale.$me"
			continue
		fi
		sleep 0.01
	done
	echo "$me" > /tmp/hctl.lock/pid
	(
		echo "$*" >&7
		if ! read -r -t "${HCTL_TIMEOUT:-30}" reply <&7; then
			reply="no reply to: $*"
		fi
		case "$reply" in
		ok*) reply=${reply#ok}; echo "${reply# }" ;;
		*)
			echo "$reply" >&2
			[ "${HCTL_MAYFAIL:-0}" = 1 ] || echo "$*: $reply" >> /tmp/hctl.fail
			exit 1
			;;
		esac
	) 7<>"/dev/${GV_ctl:-ttyS1}"
	rc=$?
	rm -rf /tmp/hctl.lock
	return $rc
}

# wait_sim [SECS]: wait until the simulator answers on the control port,
# at most SECS seconds (default 60): after a restart (suites with
# "# restart: yes", whose simulator the host starts again after a crash)
# QEMU reconnects the port when the new simulator listens, and what the
# guest writes before that is lost. Each try waits 1 s for the reply.
wait_sim() {
	_ws_end=$(($(date +%s) + ${1:-60}))
	while :; do
		[ "$(HCTL_MAYFAIL=1 HCTL_TIMEOUT=1 hctl ping 2>/dev/null)" = pong ] && return 0
		[ "$(date +%s)" -lt "$_ws_end" ] || break
		sleep 0.2
	done
	echo "the simulator did not answer within ${1:-60} s" >&2
	return 1
}

# field NAME REPLY: the value of NAME=VALUE in a simulator reply
field() {
	for kv in $2; do
		case "$kv" in "$1="*) echo "${kv#*=}"; return 0 ;; esac
	done
	return 1
}

# --- processes

# The helpers below run in polling loops: they read /proc with the shell's
# own read, not a command (under TCG each fork costs tens of ms, which made
# a loop of "SECS * 20" 50 ms sleeps last twice SECS).

# uptime_ms: UPTIME_MS, the guest's uptime in ms (/proc/uptime has two
# decimals: "1" before them keeps a leading 0 from reading as octal)
uptime_ms() {
	read -r _um_up _ < /proc/uptime
	_um_f=${_um_up#*.}
	UPTIME_MS=$((${_um_up%.*} * 1000 + 1$_um_f * 10 - 1000))
}

# now_ms: the guest's uptime in ms
now_ms() { uptime_ms; echo "$UPTIME_MS"; }

# pstate PID: the process's state letter (D: uninterruptible sleep); empty
# when it is gone
pstate() {
	_ps_l=
	read -r _ps_l 2>/dev/null < "/proc/$1/stat" || return 0
	_ps_l=${_ps_l##*) }
	echo "${_ps_l%% *}"
}

# alive PID: the process exists and has not exited (a zombie has)
alive() {
	_al_st=
	read -r _al_st 2>/dev/null < "/proc/$1/stat" || return 1
	_al_st=${_al_st##*) }
	[ "${_al_st%% *}" != Z ]
}

# wait_dead PID [TENTHS]: wait until PID has exited (at most TENTHS tenths
# of a second, 50 by default) and reap it if it is a child, its exit status
# in WAIT_RC; non-zero if it is still there
wait_dead() {
	_i=0
	while alive "$1"; do
		[ "$_i" -ge "${2:-50}" ] && return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	wait "$1" 2>/dev/null
	WAIT_RC=$?
	return 0
}

# edge LINE: a rising edge on LINE's input at the device (low first)
edge() {
	hctl level "$1" 0 >/dev/null
	hctl level "$1" 1 >/dev/null
}

# bg_start OUT CMD...: run CMD (a program, not a shell function, so that
# $! is the program itself) in the background, output to OUT; BG_PID
bg_start() {
	_o=$1
	shift
	BG_T0=$(now_ms)
	"$@" > "$_o" 2>&1 &
	BG_PID=$!
}

# bg_wait SECS: wait at most SECS seconds for BG_PID, then SIGKILL it and
# wait 2 s more. Sets RC (its exit status, or "hang" when it is still
# there: STATE is its state then) and MS (how long it ran since bg_start).
bg_wait() {
	uptime_ms
	_bw_end=$((UPTIME_MS + $1 * 1000))
	while alive "$BG_PID" && [ "$UPTIME_MS" -lt $_bw_end ]; do
		sleep 0.05
		uptime_ms
	done
	MS=$(($(now_ms) - BG_T0))
	STATE=
	if alive "$BG_PID"; then
		kill -9 "$BG_PID" 2>/dev/null
		uptime_ms
		_bw_end=$((UPTIME_MS + 2000))
		while alive "$BG_PID" && [ "$UPTIME_MS" -lt $_bw_end ]; do
			sleep 0.05
			uptime_ms
		done
	fi
	if alive "$BG_PID"; then
		RC=hang
		STATE=$(pstate "$BG_PID")
		say "pid $BG_PID did not end after ${1} s and SIGKILL: state $STATE"
	else
		wait "$BG_PID"
		RC=$?
	fi
}

# bounded SECS OUT CMD...: bg_start and bg_wait; BPID is the program's pid
bounded() {
	_s=$1
	shift
	bg_start "$@"
	BPID=$BG_PID
	bg_wait "$_s"
}

# mon_stop: end the gpiomon started in the background as MPID: SIGTERM,
# then at most 5 s. Non-zero when it did not end: MON_LEFT is then its state
# (D: uninterruptible sleep), and it is left behind, not waited for (a wait
# for a process stuck in the kernel would never return).
mon_stop() {
	MON_LEFT=
	kill "$MPID" 2>/dev/null
	wait_dead "$MPID" 50 && return 0
	MON_LEFT=$(pstate "$MPID")
	say "gpiomon $MPID did not end within 5 s of SIGTERM: state $MON_LEFT"
	return 1
}

# op_start OUT ARGS...: gvop ARGS, one operation in the background (GV_PID,
# output in OUT), once it printed "ready" (its line request is made): the
# operation is then under way. Non-zero when it did not get ready in
# STALL seconds (it may have failed, see OUT).
op_start() {
	_o=$1
	shift
	rm -f "$_o"
	/tests/bin/gvop "$@" > "$_o" 2>&1 &
	GV_PID=$!
	wait_grep "$_o" '^ready' "$STALL"
}

# op_result OUT: the result line of a gvop (ok ... / err NAME ...)
op_result() { grep -E '^(ok|err)' "$1" | tail -n 1; }

# op_ms OUT: the operation's time of a gvop, whole milliseconds
op_ms() { _om=$(field ms "$(op_result "$1")") && echo "${_om%.*}"; }

# killed PID SIG: send SIG to PID and time its end: KILL_MS is how long it
# took (bounded by KILL_BOUND ms, then SIGKILL), KILL_RC its exit status,
# or "hang" when it is still there (KILL_STATE: its state)
killed() {
	uptime_ms
	_k0=$UPTIME_MS
	kill -s "$2" "$1"
	_k_end=$((_k0 + KILL_BOUND))
	while alive "$1" && [ "$UPTIME_MS" -lt $_k_end ]; do
		sleep 0.02
		uptime_ms
	done
	KILL_MS=$((UPTIME_MS - _k0))
	KILL_STATE=
	if alive "$1"; then
		KILL_STATE=$(pstate "$1")
		# Where it is stuck says more than its state letter.
		sed "s/^/GV-LOG:   pid $1 stack: /" "/proc/$1/stack" 2>/dev/null
		kill -9 "$1" 2>/dev/null
		wait_dead "$1" 20 && KILL_RC=hang-then-killed || KILL_RC=hang
		return 1
	fi
	wait "$1" 2>/dev/null
	KILL_RC=$?
}
# The longest a killed waiter may take to end: far under any timeout_ms
# the tests use around it, with room for a loaded TCG guest.
KILL_BOUND=1500
[ "${GV_debug:-0}" = 1 ] && KILL_BOUND=4000

# errname FILE: the error a libgpiod tool reported, as an errno name
errname() {
	if grep -q 'timed out' "$1"; then echo ETIMEDOUT
	elif grep -q 'Input/output error' "$1"; then echo EIO
	elif grep -q 'Protocol error' "$1"; then echo EPROTO
	elif grep -q 'Invalid argument' "$1"; then echo EINVAL
	elif grep -q 'No such device' "$1"; then echo ENODEV
	elif grep -q 'Interrupted' "$1"; then echo EINTR
	else echo "error '$(head -n 1 "$1")'"
	fi
}

# outcome [FILE]: what the last bounded program gave (its output in FILE,
# /tmp/o by default), in words
outcome() {
	if [ "$RC" = hang ]; then echo "hang (D state after SIGKILL)"
	elif [ "$RC" = 0 ]; then echo "succeeds, value $(cat "${1:-/tmp/o}") (${MS} ms)"
	else echo "$(errname "${1:-/tmp/o}") in ${MS} ms"
	fi
}

# case_out NAME OUTCOME: a line of the fault table in the documentation
case_out() { say "CASE $1: $2"; }

# wait_grep FILE PATTERN SECS: FILE gets a line matching PATTERN
wait_grep() {
	_i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		[ $_i -ge $(($3 * 20)) ] && return 1
		sleep 0.05
		_i=$((_i + 1))
	done
}

# --- the driver under test
gv_module() {
	case "$GV_driver" in
	intree) echo /modules/gpio-virtio-intree.ko ;;
	# Our driver built in the kernel tree (module name gpio_virtio).
	upstream) echo /modules/gpio-virtio-upstream.ko ;;
	*) echo /modules/gpio-virtio.ko ;;
	esac
}

gv_modname() {
	if [ "$GV_driver" = intree ]; then echo gpio_virtio_intree
	else echo gpio_virtio; fi
}

gv_load() {	# gv_load [PARAMS...]: load the driver under test, wait for the chip
	if [ "$GV_driver" = intree ]; then
		insmod "$(gv_module)" || return 1
	else
		insmod "$(gv_module)" "$@" || return 1
	fi
	wait_chip
}

gv_unload() {
	rmmod "$(gv_modname)"
}

# The gpiochip device name of the (first) virtio GPIO device, e.g. gpiochip0.
gv_chip() {
	for d in /sys/bus/virtio/devices/*/gpiochip*; do
		[ -e "$d" ] && { basename "$d"; return 0; }
	done
	return 1
}

# wait_out LINE VALUE: the simulator sees LINE driven as output at VALUE
wait_out() {
	_i=0
	while [ $_i -lt 100 ]; do
		_r=$(hctl get "$1") || return 1
		[ "$(field dir "$_r")" = out ] && [ "$(field value "$_r")" = "$2" ] && return 0
		sleep 0.05
		_i=$((_i + 1))
	done
	echo "line $1 not driven at $2: $_r" >&2
	return 1
}

wait_chip() {
	i=0
	while [ $i -lt 100 ]; do
		c=$(gv_chip) && [ -e "/dev/$c" ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "no gpiochip appeared" >&2
	return 1
}

# --- libgpiod, both generations, behind one set of helpers
use_gen() {	# use_gen 1|2
	GEN=$1
	export LD_LIBRARY_PATH=/opt/gpiod$1/lib
	export PATH=/opt/gpiod$1/bin:/tests/bin:/bin:/sbin:/usr/bin:/usr/sbin
}

g_get() {	# g_get CHIP LINE...: the values, space separated
	c=$1
	shift
	if [ "$GEN" = 1 ]; then gpioget "$c" "$@"
	else gpioget --numeric -c "$c" "$@"; fi
}

# get_until CHIP LINE VALUE TRIES: read LINE until it reads VALUE, at most
# TRIES times 0.1 s apart (a late reply that has to land first)
get_until() {
	_gu=0
	while [ "$(g_get "$1" "$2" 2>/dev/null)" != "$3" ] && [ $_gu -lt "$4" ]; do
		sleep 0.1
		_gu=$((_gu + 1))
	done
}

g_set() {	# g_set CHIP LINE=V...: set and exit
	c=$1
	shift
	if [ "$GEN" = 1 ]; then gpioset "$c" "$@"
	else gpioset -t 0 -c "$c" "$@"; fi
}

g_hold() {	# g_hold CHIP LINE=V...: set and hold in the background; pid in HOLD_PID
	c=$1
	shift
	if [ "$GEN" = 1 ]; then gpioset --mode=signal "$c" "$@" &
	else gpioset -c "$c" "$@" & fi
	HOLD_PID=$!
}

g_release() {
	kill "$HOLD_PID" 2>/dev/null
	wait "$HOLD_PID" 2>/dev/null
	HOLD_PID=
}

# g_mon CHIP EDGES N LINE...: wait for N events, print one "OFFSET rising|falling" line each
g_mon() {
	c=$1 e=$2 n=$3
	shift 3
	if [ "$GEN" = 1 ]; then
		# libgpiod 1.6 takes no option after the chip name; -b: line
		# buffered, so what it printed is not lost if it is killed.
		case "$e" in
		rising) gpiomon -b -r -n "$n" -F '%o %e' "$c" "$@" ;;
		falling) gpiomon -b -f -n "$n" -F '%o %e' "$c" "$@" ;;
		*) gpiomon -b -n "$n" -F '%o %e' "$c" "$@" ;;
		esac | sed -e 's/ 1$/ rising/' -e 's/ 0$/ falling/'
	else
		gpiomon -n "$n" -e "$e" -F '%o %E' -c "$c" "$@"
	fi
}

# exec_mon CHIP EDGES N LINE: become gpiomon waiting for N events, writing
# them straight to stdout (no pipe: nothing waits in a pipe buffer, its
# output can be counted while it runs, and $! of "(exec_mon ...) &" is
# gpiomon itself). Call it in a subshell only. libgpiod 1.6 prints "L 1" for
# a rising edge, "L 0" for a falling one; 2.x "L rising", "L falling".
exec_mon() {
	c=$1 e=$2 n=$3
	shift 3
	if [ "$GEN" = 1 ]; then
		case "$e" in
		rising) exec gpiomon -b -r -n "$n" -F '%o %e' "$c" "$@" ;;
		falling) exec gpiomon -b -f -n "$n" -F '%o %e' "$c" "$@" ;;
		*) exec gpiomon -b -n "$n" -F '%o %e' "$c" "$@" ;;
		esac
	fi
	exec gpiomon -n "$n" -e "$e" -F '%o %E' -c "$c" "$@"
}

# irq_row CONSUMER: the interrupt count of CONSUMER's row in
# /proc/interrupts (summed over the CPUs), or - when there is none
irq_row() {
	awk -v c="$1" 'index($0, c) {
		n = 0
		for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i
		print n; found = 1; exit
	} END { if (!found) print "-" }' /proc/interrupts
}

# lines_of FILE: the number of lines in FILE (0 when it does not exist)
lines_of() {
	if [ -f "$1" ]; then wc -l < "$1" | tr -d ' '; else echo 0; fi
}

# wait_lines FILE N STALL: wait until FILE has N lines; fail when it has
# not grown for STALL seconds (a stall: slowness alone never fails it)
wait_lines() {
	_have=$(lines_of "$1")
	_last=$_have
	_wl_t=$(date +%s)
	while [ "$_have" -lt "$2" ]; do
		sleep 0.05
		_have=$(lines_of "$1")
		if [ "$_have" != "$_last" ]; then
			_last=$_have
			_wl_t=$(date +%s)
		elif [ $(( $(date +%s) - _wl_t )) -ge "$3" ]; then
			return 1
		fi
	done
	return 0
}

# pulse_paced LINE N PERIOD_US FILE PER_PULSE STALL: N pulses on LINE's input,
# in batches that fit gpiolib-cdev's 16-event FIFO, each batch sent only
# once the reader has written every event so far to FILE (PER_PULSE events
# per pulse). Non-zero, with the counts on stderr, when the reader stalls.
pulse_paced() {
	_l=$1 _n=$2 _p=$3 _f=$4 _e=$5 _s=$6
	_b=$((16 / _e))
	_sent=0
	while [ "$_sent" -lt "$_n" ]; do
		_k=$((_n - _sent))
		[ "$_k" -gt "$_b" ] && _k=$_b
		HCTL_TIMEOUT=120 hctl pulse "$_l" "$_k" "$_p" >/dev/null || return 1
		_sent=$((_sent + _k))
		if ! wait_lines "$_f" $((_sent * _e)) "$_s"; then
			echo "the reader stalled: it wrote $(lines_of "$_f") of $((_sent * _e)) events" \
				"after ${_s}s without progress" >&2
			return 1
		fi
	done
}

# dbg_irqs CHIP LINE: the interrupts our driver's debugfs counters file
# says it handled on LINE, or nothing when the driver has no such file
dbg_irqs() {
	_dv=$(basename "$(dirname "$(readlink -f /sys/bus/virtio/devices/*/"$1")")")
	_df=/sys/kernel/debug/gpio-virtio/$_dv/stats
	[ -r "$_df" ] && awk -v l="$2" '$1 == l { print $5 }' "$_df"
}

# burst_check NAME CHIP LINES N PERIOD_US [EDGES]: free-running pulses,
# counted on both sides of the wire. On each line of LINES (L,L,...) a
# gvevents reader asks for EDGES (rising by default) events; the simulator
# makes N pulses on all of them in step, one every PERIOD_US, without ever
# waiting for the driver ("burst"); once the device has settled (every line
# re-armed, nothing kept for it) the readers stop. Then, for every line,
# the check passes when:
#   the edges the device saw for the type are N (2N for both),
#   edges = events the device completed + edges lost in the device
#     (collapsed into a latched one, or pushed out of a full FIFO),
#   events completed = interrupts the kernel handled for the reader's
#     request (/proc/interrupts) = gpiolib-cdev's sequence number of the
#     line (which counts what its own FIFO dropped for a slow reader)
#     = our driver's debugfs count when it has one.
# What the readers got is reported apart. BURST_KEPT and BURST_LOST are the
# edges that found their line masked, and those lost, over all lines.
burst_check() {
	_bn=$1 _bc=$2 _bl=$3 _bN=$4 _bp=$5 _be=${6:-rising}
	_bper=1
	[ "$_be" = both ] && _bper=2
	step "$_bn: $_bN pulses every $_bp us on line(s) $_bl"
	_bpids=
	for _l in $(echo "$_bl" | tr , ' '); do
		hctl level "$_l" 0 >/dev/null
		# One more than can come: the reader holds the line (and the
		# device its buffer) until it is stopped after the settling.
		/tests/bin/gvevents "$_bc" "$_l" "$_be" $((_bN * _bper + 1)) "$STALL" > "/tmp/gve.$_l" 2>&1 &
		_bpids="$_bpids $!"
	done
	_bbad=
	for _l in $(echo "$_bl" | tr , ' '); do
		wait_grep "/tmp/gve.$_l" '^ready' "$STALL" && wait_unmasked "$_l" >/dev/null 2>&1 ||
			_bbad="$_bbad line $_l not ready: $(head -c 200 "/tmp/gve.$_l")"
		eval "_bd0_$_l=\$(dbg_irqs \"\$_bc\" \$_l)"
	done
	hctl reset-stats >/dev/null
	_br=$(HCTL_TIMEOUT=$((_bN * _bp / 1000000 + 60)) hctl burst "$_bl" "$_bN" "$_bp") ||
		_bbad="$_bbad burst failed: $_br"
	# Settled: every line holds its buffer with nothing kept, the same in
	# two looks 0.2 s apart (bounded: STALL seconds without any change).
	_bprev= _bsame=0 _bt=$(date +%s)
	while :; do
		_bst=$(hctl irqstate)
		_bnow=
		_bsettled=1
		for _l in $(echo "$_bl" | tr , ' '); do
			_bx=$(echo "$_bst" | tr ' ' '\n' | grep "^$_l:")
			_bnow="$_bnow $_bx"
			case "$_bx" in *:0:0) ;; *) _bsettled=0 ;; esac
		done
		if [ "$_bnow" = "$_bprev" ]; then
			_bsame=$((_bsame + 1))
			[ $_bsettled = 1 ] && [ $_bsame -ge 1 ] && break
			[ $(($(date +%s) - _bt)) -ge "$STALL" ] &&
				{ _bbad="$_bbad not settled after ${STALL}s without progress:$_bnow"; break; }
		else
			_bprev=$_bnow _bsame=0 _bt=$(date +%s)
		fi
		sleep 0.2
	done
	# shellcheck disable=SC2086
	kill -TERM $_bpids 2>/dev/null
	for _p in $_bpids; do wait_dead "$_p" $((STALL * 10)) || _bbad="$_bbad reader $_p did not end"; done
	BURST_KEPT=0 BURST_LOST=0 _bsum=
	for _l in $(echo "$_bl" | tr , ' '); do
		_bs=$(hctl stats "$_l")
		_bg=$(grep '^read=' "/tmp/gve.$_l")
		_bE=$(field edges "$_bs") _bV=$(field events "$_bs") _bC=$(field collapsed "$_bs")
		_bK=$(field queued "$_bs") _bL=$(field latched "$_bs")
		_bI=$(field irqs "$_bg") _bS=$(field seqno "$_bg")
		BURST_KEPT=$((BURST_KEPT + _bL + _bC)) BURST_LOST=$((BURST_LOST + _bC))
		eval "_bd0=\$_bd0_$_l"
		_bD=
		[ -n "$_bd0" ] && _bD=$(($(dbg_irqs "$_bc" "$_l") - _bd0))
		_bsum="$_bsum; $_l: edges $_bE events $_bV lost $_bC kept $_bK irqs $_bI seqno $_bS${_bD:+ debugfs $_bD} read $(field read "$_bg")"
		[ "$_bE" = $((_bN * _bper)) ] || _bbad="$_bbad line $_l: $_bE edges, not $((_bN * _bper))"
		[ "$_bE" = $((_bV + _bC + _bK)) ] || _bbad="$_bbad line $_l: edges $_bE != events $_bV + lost $_bC + kept $_bK"
		[ "$_bV" = "$_bI" ] && [ "$_bV" = "$_bS" ] && [ "${_bD:-$_bV}" = "$_bV" ] ||
			_bbad="$_bbad line $_l: events $_bV, interrupts $_bI, seqno $_bS${_bD:+, debugfs $_bD}"
	done
	say "$_bn: burst: $_br$_bsum"
	[ -z "$_bbad" ]
	report $? "$_bn: per line, edges = events + edges lost in the device, events = interrupts handled = gpiolib-cdev seqno" \
		"${_bbad# }"
}

# Wait until a line is requested by a consumer (gpiomon started listening).
wait_used() {	# wait_used CHIP LINE
	i=0
	while [ $i -lt 100 ]; do
		if [ "$GEN" = 1 ]; then
			gpioinfo "$1" | grep -E "^[[:space:]]+line +$2:" | grep -q '\[used\]' && return 0
		else
			gpioinfo -c "$1" "$2" | grep -q 'consumer=' && return 0
		fi
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# gv_chip_lines N: the virtio gpiochip with N lines
gv_chip_lines() {
	for d in /sys/bus/virtio/devices/*/gpiochip*; do
		[ -e "$d" ] || continue
		[ "$(cat "$d/ngpio" 2>/dev/null)" = "$1" ] && { basename "$d"; return 0; }
	done
	# gpiochipN in sysfs has no ngpio: ask the character device.
	for d in /sys/bus/virtio/devices/*/gpiochip*; do
		c=$(basename "$d")
		gpiodetect | grep -q "^$c .*($1 lines)" && { echo "$c"; return 0; }
	done
	return 1
}

# info_line CHIP LINE: gpioinfo's line for one line, either generation
info_line() {
	if [ "$GEN" = 1 ]; then gpioinfo "$1" | grep -E "^[[:space:]]+line +$2:"
	else gpioinfo -c "$1" "$2"; fi
}

# wait_unmasked LINE: the driver has queued the line's event buffer
wait_unmasked() {
	i=0
	while [ $i -lt 100 ]; do
		r=$(hctl get "$1") && [ "$(field masked "$r")" = 0 ] && return 0
		sleep 0.1
		i=$((i + 1))
	done
	echo "line $1 never unmasked: $r" >&2
	return 1
}

# --- coverage (a kernel with CONFIG_GCOV_KERNEL, the driver built with gcov)

# gcda_dump: hand the driver's gcov data to the host on the console, once,
# at the end of the boot (tests/guest/init): the kernel keeps the counts of
# every load of the module since the boot (gcov_persist), so one file holds
# the whole suite. Framed for scripts/coverage.sh, which checks it:
#   GV-GCDA-BEGIN file=NAME bytes=N md5=SUM
#   GV-GCDA: <base64, 76 characters a line>
#   GV-GCDA-END lines=L ms=T
# or one "GV-GCDA-NONE: REASON" line when there is nothing to send. The
# console's log level is lowered meanwhile, so that no kernel message lands
# inside the block; at most 4 MiB are sent.
gcda_dump() {
	_gd_f=$(find /sys/kernel/debug/gcov -name gpio-virtio.gcda 2>/dev/null | head -n 1)
	if [ -z "$_gd_f" ]; then
		echo "GV-GCDA-NONE: no gpio-virtio.gcda under /sys/kernel/debug/gcov (was the module loaded?)"
		return 0
	fi
	# A snapshot: the kernel makes the file's contents when it is opened.
	if ! cat "$_gd_f" > /tmp/gv.gcda 2>/dev/null; then
		echo "GV-GCDA-NONE: cannot read $_gd_f"
		return 0
	fi
	_gd_n=$(wc -c < /tmp/gv.gcda | tr -d ' ')
	if [ "$_gd_n" -gt 4194304 ]; then
		echo "GV-GCDA-NONE: $_gd_f has $_gd_n bytes (over 4 MiB)"
		return 0
	fi
	_gd_t0=$(now_ms)
	read -r _gd_lvl _ < /proc/sys/kernel/printk
	echo 1 > /proc/sys/kernel/printk
	set -- $(md5sum /tmp/gv.gcda)
	echo "GV-GCDA-BEGIN file=gpio-virtio.gcda bytes=$_gd_n md5=$1"
	base64 /tmp/gv.gcda > /tmp/gv.b64
	sed 's/^/GV-GCDA: /' /tmp/gv.b64
	echo "GV-GCDA-END lines=$(wc -l < /tmp/gv.b64 | tr -d ' ') ms=$(($(now_ms) - _gd_t0))"
	echo "$_gd_lvl" > /proc/sys/kernel/printk
	rm -f /tmp/gv.gcda /tmp/gv.b64
}
