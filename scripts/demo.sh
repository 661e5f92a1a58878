#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Show the driver at work: build the simulator, the module and an initramfs,
# start a simulated 16-line board (names from tests/data/demo-board.txt),
# boot the machine's own Debian release's 6.12 kernel (6.12.N+deb12 on
# Debian 12, +deb13 on Debian 13; downloaded and unpacked under .cache/,
# never installed, and without its source, which only DRIVER=intree needs)
# under QEMU and run tests/guest/demo.sh in it:
# gpiodetect, gpioinfo, LEDs set in the guest and read on the host through
# the simulator's control socket, button presses made on the host and seen by
# gpiomon in the guest.
#
# Usage: scripts/demo.sh [--shell]
#   --shell   the same guest with an interactive shell on this terminal
#             (the driver loaded; Ctrl-A X leaves QEMU at any time)
# Environment: KVER=6.12 (6.1 and 7.2 work too), DRIVER=ours|intree,
# DEMO_TIMEOUT=150 (seconds for the boot, demo mode only).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

KVER=${KVER:-6.12}
DRIVER=${DRIVER:-ours}
DEMO_TIMEOUT=${DEMO_TIMEOUT:-150}
QEMU=${QEMU:-qemu-system-x86_64}
SHELL_MODE=0
case "${1:-}" in
"") ;;
--shell) SHELL_MODE=1 ;;
-h|--help) sed -n '3,19p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) echo "usage: $0 [--shell]" >&2; exit 2 ;;
esac

W=$CACHE/demo
start=$SECONDS
step() { echo "[demo] $*"; }
fail() {
	echo "[demo] FAILED: $*" >&2
	echo "[demo] logs: $W/" >&2
	exit 1
}

mkdir -p "$W"
rm -f "$W"/*.log "$W"/*.sock "$W"/why "$W"/host-*

step "building the device simulator (tests/sim)"
make -s -C "$top/tests/sim" > "$W/build-sim.log" 2>&1 ||
	fail "the simulator did not build: $(tail -n 3 "$W/build-sim.log")"

step "getting Debian's $KVER guest kernel (the first run downloads it)"
# (the in-tree driver is built from the kernel's source: only it needs one)
nosrc=(--no-source)
[ "$DRIVER" != intree ] || nosrc=()
"$top/scripts/fetch-kernel.sh" "${nosrc[@]}" "$KVER" > "$W/fetch-kernel.log" 2>&1 ||
	fail "scripts/fetch-kernel.sh $KVER failed: $(tail -n 3 "$W/fetch-kernel.log")"
# shellcheck disable=SC1090
. "$CACHE/kernels/$KVER.env"

out=$CACHE/build/$KVER/demo
mkdir -p "$out"
case "$DRIVER" in
ours) script=build-module.sh ko=gpio-virtio.ko ;;
intree) script=build-intree.sh ko=gpio-virtio-intree.ko ;;
*) fail "DRIVER must be ours or intree (got '$DRIVER')" ;;
esac
step "building $ko for $KRELEASE"
rm -f "$out/$ko"
if ! "$top/scripts/$script" "$KVER" "$out" > "$W/build-module.log" 2>&1 ||
	[ ! -f "$out/$ko" ]; then
	fail "the module did not build: $(tail -n 5 "$W/build-module.log")"
fi

step "building the guest initramfs (busybox, libgpiod tools, the module)"
DKMS_KO='' "$top/scripts/mkinitramfs.sh" "$CACHE/kernels/$KVER.env" "$out/initrd.gz" \
	"$out/$ko" > "$W/initramfs.log" 2>&1 ||
	fail "the initramfs did not build: $(tail -n 3 "$W/initramfs.log")"

step "starting the simulator: 16 lines named $(head -n 8 "$top/tests/data/demo-board.txt" |
	paste -sd, -)..."
"$top/tests/sim/vgpio-sim" --socket "$W/vgpio.sock" --ctl "$W/ctl.sock" --once \
	--lines 16 --names "file:$top/tests/data/demo-board.txt" > "$W/sim.log" 2>&1 &
sim=$!
qemu=
watchdog=
cleanup() {
	set +e
	[ -n "$watchdog" ] && kill "$watchdog" 2>/dev/null
	[ -n "$qemu" ] && kill "$qemu" 2>/dev/null
	kill "$sim" 2>/dev/null
	wait 2>/dev/null
	rm -f "$W/vgpio.sock" "$W/ctl.sock"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM
for ((i = 0; i < 50; i++)); do
	[ -S "$W/vgpio.sock" ] && [ -S "$W/ctl.sock" ] && break
	kill -0 "$sim" 2>/dev/null || fail "the simulator exited: $(tail -n 3 "$W/sim.log")"
	sleep 0.1
done
[ -S "$W/ctl.sock" ] || fail "the simulator's sockets did not appear in 5 s"

# ctl COMMAND...: one command to the simulator's control socket; prints the
# reply, non-zero unless it starts with "ok".
ctl() {
	python3 - "$W/ctl.sock" "$*" <<'PY'
import socket, sys
buf = b""
try:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    s.connect(sys.argv[1])
    s.sendall((sys.argv[2] + "\n").encode())
    while not buf.endswith(b"\n"):
        data = s.recv(4096)
        if not data:
            break
        buf += data
except OSError as e:
    print("err control socket: %s" % e)
    sys.exit(1)
reply = buf.decode(errors="replace").strip() or "err no reply"
print(reply)
sys.exit(0 if reply.startswith("ok") else 1)
PY
}
r=$(ctl ping) || fail "the control socket does not answer: $r"

# Ask the simulator for a line's state: "dir=.. value=.." of `get L`.
field() {
	local kv
	for kv in $2; do
		case "$kv" in "$1="*) echo "${kv#*=}"; return 0 ;; esac
	done
}

# shellcheck disable=SC2054 # commas are QEMU's
qemu_args=(-accel tcg -smp 2 -m 512 -nodefaults -display none -no-reboot
	-object memory-backend-memfd,id=mem,size=512M,share=on
	-machine q35,memory-backend=mem
	-chardev "socket,id=ctl,path=$W/ctl.sock"
	-chardev "socket,id=vgpio,path=$W/vgpio.sock"
	-device vhost-user-gpio-pci,chardev=vgpio
	-device isa-debug-exit,iobase=0xf4,iosize=0x04
	-kernel "$KIMAGE" -initrd "$out/initrd.gz")
cmdline="console=ttyS0 panic=-1 gv.test=demo gv.driver=$DRIVER gv.debug=${KDEBUG:-0}"

if [ "$SHELL_MODE" = 1 ]; then
	step "booting $KRELEASE under QEMU (TCG); the shell comes up in about half a minute"
	step "type 'exit' in the guest to power off, or Ctrl-A X to quit QEMU"
	set +e
	"$QEMU" "${qemu_args[@]}" -serial mon:stdio -serial chardev:ctl \
		-append "$cmdline loglevel=4 gv.demo=shell"
	rc=$?
	set -e
	case $rc in
	0|33) step "guest powered off after $((SECONDS - start)) s"; exit 0 ;;
	*) fail "QEMU exited with status $rc" ;;
	esac
fi

step "booting $KRELEASE under QEMU (TCG, no KVM) with gv.test=demo"
"$QEMU" "${qemu_args[@]}" -chardev "file,id=con,path=$W/console.log" -serial chardev:con \
	-serial chardev:ctl -append "$cmdline loglevel=5" > "$W/qemu.log" 2>&1 &
qemu=$!

# Watchdog: a boot that takes too long or a simulator that dies ends QEMU.
(
	t0=$SECONDS
	while kill -0 "$qemu" 2>/dev/null; do
		# (the simulator leaves on its own when QEMU disconnects at the end)
		if ! kill -0 "$sim" 2>/dev/null && sleep 2 && kill -0 "$qemu" 2>/dev/null; then
			echo "the simulator died during the boot; see $W/sim.log" > "$W/why"
		elif [ $((SECONDS - t0)) -ge "$DEMO_TIMEOUT" ]; then
			echo "the guest did not finish within ${DEMO_TIMEOUT}s" > "$W/why"
		fi
		if [ -s "$W/why" ]; then
			kill "$qemu" 2>/dev/null
			break
		fi
		sleep 0.5
	done
) &
watchdog=$!

for ((i = 0; i < 100; i++)); do
	[ -f "$W/console.log" ] && break
	kill -0 "$qemu" 2>/dev/null || break
	sleep 0.1
done
[ -f "$W/console.log" ] || fail "QEMU did not start: $(tail -n 5 "$W/qemu.log")"

end_rc=
guest_failed=0
while IFS= read -r line; do
	line=${line%$'\r'}
	case "$line" in
	"GV-LOG: "*) echo "  guest| ${line#GV-LOG: }" ;;
	"GV: ok - "*) echo "  guest| [ok] ${line#GV: ok - }" ;;
	"GV: not ok - "*)
		echo "  guest| [FAILED] ${line#GV: not ok - }"
		guest_failed=$((guest_failed + 1))
		;;
	"GV-INIT: "*) echo "  guest| $line" ;;
	"GV-DEMO: leds")
		states=
		for l in 0 1 2 3; do
			r=$(ctl get $l) || { echo "[demo] get $l: $r"; touch "$W/host-failed"; }
			states="$states $(field name "$r")=$(field value "$r")($(field dir "$r"))"
		done
		step "host reads the LEDs from the simulator (control socket 'get L'):$states"
		r0=$(ctl get 0) || true
		r2=$(ctl get 2) || true
		if [ "$(field value "$r0")$(field dir "$r0")" = 1out ] &&
			[ "$(field value "$r2")$(field dir "$r2")" = 1out ]; then
			touch "$W/host-leds-ok"
		else
			echo "[demo] LED0/LED2 are not driven high: $r0 / $r2"
		fi
		;;
	"GV-DEMO: buttons "*)
		read -r bline bcount <<< "${line#GV-DEMO: buttons }"
		step "host presses BUTTON0 (line $bline) $bcount times: control socket 'pulse $bline $bcount 300000'"
		(
			if r=$(ctl pulse "$bline" "$bcount" 300000); then
				step "simulator: $r; host raises WAKE (line 15): 'level 15 1'"
				ctl level 15 1 >/dev/null && touch "$W/host-pulses-ok"
			else
				echo "[demo] pulse failed: $r"
			fi
		) &
		;;
	"GV-END rc="*) end_rc=${line#GV-END rc=} ;;
	*"Kernel panic"*|*"BUG:"*|*"WARNING:"*|*"Oops"*) echo "  guest| kernel: $line" ;;
	esac
done < <(tail -n +1 -f --pid="$qemu" "$W/console.log" 2>/dev/null)

set +e
wait "$qemu" 2>/dev/null
qrc=$?
set -e
qemu=
why=$(cat "$W/why" 2>/dev/null || true)
[ -z "$why" ] || fail "$why"
if [ -z "$end_rc" ] && ! kill -0 "$sim" 2>/dev/null; then
	fail "the simulator exited during the boot and QEMU stopped; see $W/sim.log and $W/qemu.log"
fi
[ -n "$end_rc" ] || fail "the guest ended without finishing the demo (QEMU status $qrc); see $W/console.log"
if [ "$end_rc" != 0 ] || [ "$guest_failed" != 0 ]; then
	fail "$guest_failed step(s) failed in the guest; see $W/console.log"
fi
[ -f "$W/host-leds-ok" ] || fail "the host did not see the LEDs driven high"
[ -f "$W/host-pulses-ok" ] || fail "the host could not press the button"
if grep -qE 'BUG:|WARNING:|Oops|Call Trace:|Kernel panic' "$W/console.log"; then
	fail "the kernel reported a problem; see $W/console.log"
fi
step "done in $((SECONDS - start)) s: every step passed (logs in $W/)"
