#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The test suite: the simulator's unit tests, then for every selected kernel
# and driver one QEMU boot per guest suite (tests/guest/*.sh). Prints TAP and
# ends with "N passed, N failed".
#
# Environment (all optional):
#   KERNELS="6.1 6.12 7.2"   kernels to boot
#   DRIVER=all|ours|intree    drivers to test (default all)
#   SUITES="basic edges"      guest suites to run (default: every suite)
#   TIMEOUT_SCALE=1           multiply every boot's time limit
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

KERNELS=${KERNELS:-6.1 6.12 7.2}
DRIVER=${DRIVER:-all}
SUITES=${SUITES:-}
TIMEOUT_SCALE=${TIMEOUT_SCALE:-1}
QEMU=${QEMU:-qemu-system-x86_64}
RUNS=$CACHE/runs
SIM=$top/tests/sim/vgpio-sim

case "$DRIVER" in
all) DRIVERS="ours intree" ;;
ours|intree) DRIVERS=$DRIVER ;;
*) die "DRIVER must be ours, intree or all (got '$DRIVER')" ;;
esac

n=0 passed=0 failed=0 todo=0
start_time=$(date +%s)

tap() {	# tap ok|notok DESCRIPTION [DIAGNOSTIC...]
	local res=$1 desc=$2
	shift 2
	n=$((n + 1))
	if [ "$res" = ok ]; then
		echo "ok $n - $desc"
		case "$desc" in *"# TODO"*) todo=$((todo + 1)) ;; esac
		passed=$((passed + 1))
	elif [[ "$desc" == *"# TODO"* ]]; then
		echo "not ok $n - $desc"
		todo=$((todo + 1))
	else
		echo "not ok $n - $desc"
		failed=$((failed + 1))
	fi
	local line
	for line in "$@"; do echo "#   $line"; done
}

note() { echo "# $*"; }

# Bad kernel reports: any of these in a guest console fails the boot.
BAD_RE='BUG:|WARNING:|Oops|Call Trace:|KASAN|UBSAN|unreferenced object|suspected memory leak|Kernel panic|general protection fault|INFO: task .* blocked|possible recursive locking|circular locking'

# suite_meta FILE KEY: the value of a "# KEY: ..." header line
suite_meta() {
	sed -n "s/^# $2: //p" "$1" | head -n 1
}

# run_boot KERNEL DRIVER SUITE: one guest boot with the suite's simulator(s)
run_boot() {
	local k=$1 drv=$2 suite=$3 file=$top/tests/guest/$3.sh
	local w=$RUNS/$k-$drv-$suite tag="[$k/$drv/$suite]"
	local simargs ndev limit
	simargs=$(suite_meta "$file" sim)
	ndev=$(suite_meta "$file" devices)
	ndev=${ndev:-1}
	limit=$(suite_meta "$file" timeout)
	limit=$(( ${limit:-240} * TIMEOUT_SCALE ))
	[ "$KDEBUG" = 1 ] && limit=$((limit * 2))
	simargs=${simargs//@DATA@/$top/tests/data}

	rm -rf "$w" && mkdir -p "$w"
	local -a qargs=() spids=()
	local i
	for ((i = 0; i < ndev; i++)); do
		if [ $i -gt 0 ]; then
			simargs=$(suite_meta "$file" "sim$i")
			simargs=${simargs//@DATA@/$top/tests/data}
		fi
		# shellcheck disable=SC2086
		"$SIM" --socket "$w/vgpio$i.sock" --ctl "$w/ctl$i.sock" --once $simargs \
			> "$w/sim$i.log" 2>&1 &
		spids+=($!)
		qargs+=(-chardev "socket,id=vgpio$i,path=$w/vgpio$i.sock"
			-device "vhost-user-gpio-pci,chardev=vgpio$i")
	done
	for ((i = 0; i < ndev; i++)); do
		local t=0
		while [ ! -S "$w/vgpio$i.sock" ] || [ ! -S "$w/ctl$i.sock" ]; do
			if ! kill -0 "${spids[$i]}" 2>/dev/null || [ $t -ge 50 ]; then
				tap notok "$tag simulator starts" "$(tail -n 3 "$w/sim$i.log")"
				kill "${spids[@]}" 2>/dev/null
				wait 2>/dev/null
				return
			fi
			sleep 0.1
			t=$((t + 1))
		done
	done

	"$QEMU" -accel tcg -smp 2 -m 512 -nodefaults -display none -no-reboot \
		-object memory-backend-memfd,id=mem,size=512M,share=on \
		-machine q35,memory-backend=mem \
		-chardev "file,id=con,path=$w/console.log" -serial chardev:con \
		-chardev "socket,id=ctl,path=$w/ctl0.sock" -serial chardev:ctl \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		"${qargs[@]}" \
		-kernel "$KIMAGE" -initrd "$INITRD" \
		-append "console=ttyS0 loglevel=5 panic=-1 gv.test=$suite gv.driver=$drv gv.debug=$KDEBUG" \
		> "$w/qemu.log" 2>&1 &
	local qpid=$! elapsed=0 why=
	while kill -0 "$qpid" 2>/dev/null; do
		for ((i = 0; i < ndev; i++)); do
			if ! kill -0 "${spids[$i]}" 2>/dev/null; then
				why="the simulator died during the boot (device $i); see $w/sim$i.log"
			fi
		done
		if [ -n "${KILL_SIM_AFTER:-}" ] && [ "$elapsed" -ge $((KILL_SIM_AFTER * 10)) ]; then
			kill -9 "${spids[0]}" 2>/dev/null
		fi
		[ $elapsed -ge $((limit * 10)) ] && why="the guest did not finish within ${limit}s"
		if [ -n "$why" ]; then
			kill "$qpid" 2>/dev/null
			sleep 1
			kill -9 "$qpid" 2>/dev/null
			break
		fi
		sleep 0.1
		elapsed=$((elapsed + 1))
	done
	wait "$qpid"
	local qrc=$?
	kill "${spids[@]}" 2>/dev/null
	wait "${spids[@]}" 2>/dev/null

	# Per-test results from the guest.
	local line
	while IFS= read -r line; do
		case "$line" in
		"GV: ok - "*) tap ok "$tag ${line#GV: ok - }" ;;
		"GV: not ok - "*) tap notok "$tag ${line#GV: not ok - }" ;;
		esac
	done < <(tr -d '\r' < "$w/console.log")

	# The boot as a whole.
	local bad
	bad=$(tr -d '\r' < "$w/console.log" | grep -E "$BAD_RE" | head -n 5)
	if [ -n "$why" ]; then
		tap notok "$tag boot completed" "$why" "console: $w/console.log" \
			"$(tr -d '\r' < "$w/console.log" | grep -v '^GV-LOG' | tail -n 5)"
		LAST_BOOT_WHY=$why
	elif [ $qrc != 33 ] || ! grep -q '^GV-END rc=0' "$w/console.log"; then
		tap notok "$tag boot completed with every test passed" "QEMU exit status $qrc" \
			"console: $w/console.log" "$(grep -E 'GV-END|GV-INIT' "$w/console.log" | head -n 3)"
	else
		tap ok "$tag boot completed with every test passed"
	fi
	if [ -n "$bad" ]; then
		tap notok "$tag kernel log clean" "console: $w/console.log" "$bad"
	else
		tap ok "$tag kernel log clean"
	fi
}

# ---------------------------------------------------------------------------
echo "TAP version 13"
note "kernels: $KERNELS; drivers: $DRIVERS; $(${QEMU} --version | head -n 1)"

if make -s -C "$top/tests/sim" > "$CACHE/sim-build.log" 2>&1 || { mkdir -p "$CACHE" &&
	make -s -C "$top/tests/sim" > "$CACHE/sim-build.log" 2>&1; }; then
	tap ok "simulator builds"
else
	tap notok "simulator builds" "$(tail -n 5 "$CACHE/sim-build.log")"
fi
while IFS= read -r line; do
	case "$line" in
	"ok "*) tap ok "sim unit: $(echo "$line" | sed -E 's/^ok [0-9]+ (- )?//')" ;;
	"not ok "*) tap notok "sim unit: $(echo "$line" | sed -E 's/^not ok [0-9]+ (- )?//')" ;;
	esac
done < <(make -s -C "$top/tests/sim" check 2>&1)

if [ -n "$SUITES" ]; then
	suites=$SUITES
else
	suites=$(cd "$top/tests/guest" && ls ./*.sh | sed 's|^\./||; s|\.sh$||' | grep -v '^lib$')
fi

# Packaging: DKMS against the Debian headers and the .deb (before the boots,
# which load the DKMS-built module).
if [[ " $DRIVERS " == *" ours "* ]] && [ -x "$top/tests/packaging.sh" ]; then
	while IFS= read -r line; do
		case "$line" in
		"ok - "*) tap ok "packaging: ${line#ok - }" ;;
		"not ok - "*) tap notok "packaging: ${line#not ok - }" ;;
		*) echo "#   $line" ;;
		esac
	done < <("$top/tests/packaging.sh" 2>&1)
fi

make -s -C "$top/tests/guest" > "$CACHE/guest-build.log" 2>&1 ||
	tap notok "guest programs build" "$(tail -n 5 "$CACHE/guest-build.log")"

for k in $KERNELS; do
	if ! "$top/scripts/fetch-kernel.sh" "$k" > "$CACHE/fetch-$k.log" 2>&1; then
		tap notok "[$k] kernel available" "$(tail -n 5 "$CACHE/fetch-$k.log")"
		continue
	fi
	# shellcheck disable=SC1090
	. "$CACHE/kernels/$k.env"
	mods=()
	for drv in $DRIVERS; do
		out=$CACHE/build/$k/modules
		mkdir -p "$out"
		if [ "$drv" = ours ]; then
			script=build-module.sh ko=gpio-virtio.ko
		else
			script=build-intree.sh ko=gpio-virtio-intree.ko
		fi
		if "$top/scripts/$script" "$k" "$out" > "$CACHE/build-$k-$drv.log" 2>&1 &&
			[ -f "$out/$ko" ]; then
			tap ok "[$k/$drv] module builds"
			mods+=("$out/$ko")
		else
			tap notok "[$k/$drv] module builds" "$(tail -n 5 "$CACHE/build-$k-$drv.log")"
		fi
	done
	if [ -x "$top/scripts/build-testmods.sh" ]; then
		rm -rf "$CACHE/build/$k/testmods"
		mkdir -p "$CACHE/build/$k/testmods"
		if "$top/scripts/build-testmods.sh" "$k" "$CACHE/build/$k/testmods" \
			> "$CACHE/build-$k-testmods.log" 2>&1; then
			tap ok "[$k] test modules build"
		else
			tap notok "[$k] test modules build" "$(tail -n 5 "$CACHE/build-$k-testmods.log")"
		fi
	fi
	for extra in "$CACHE"/build/"$k"/testmods/*.ko; do
		[ -f "$extra" ] && mods+=("$extra")
	done
	if [[ " $DRIVERS " == *" ours "* ]] && [ -x "$top/scripts/check.sh" ]; then
		if "$top/scripts/check.sh" "$k" > "$CACHE/check-$k.log" 2>&1; then
			tap ok "[$k] make check: W=1, sparse and checkpatch --strict clean"
		else
			tap notok "[$k] make check: W=1, sparse and checkpatch --strict clean" \
				"$(grep -E 'warning|error|WARNING|ERROR|CHECK' "$CACHE/check-$k.log" | head -n 8)"
		fi
	fi
	INITRD=$CACHE/build/$k/initrd.gz
	export DKMS_KO=
	[ -f "$CACHE/build/$k/dkms/gpio-virtio.ko" ] && DKMS_KO=$CACHE/build/$k/dkms/gpio-virtio.ko
	if ! "$top/scripts/mkinitramfs.sh" "$CACHE/kernels/$k.env" "$INITRD" "${mods[@]}" \
		> "$CACHE/initrd-$k.log" 2>&1; then
		tap notok "[$k] initramfs builds" "$(tail -n 5 "$CACHE/initrd-$k.log")"
		continue
	fi
	for drv in $DRIVERS; do
		for s in $suites; do
			f=$top/tests/guest/$s.sh
			[ -f "$f" ] || { tap notok "[$k/$drv] suite $s exists"; continue; }
			suite_meta "$f" drivers | grep -qw "$drv" || continue
			kern=$(suite_meta "$f" kernels)
			[ -z "$kern" ] || echo "$kern" | grep -qw "$k" || continue
			run_boot "$k" "$drv" "$s"
		done
	done
	# The harness itself: a simulator killed mid-run fails the boot quickly
	# and says why (once, on the first kernel).
	if [ -z "${selftest_done:-}" ] && [ -f "$top/tests/guest/basic.sh" ] &&
		[[ " $suites " == *" basic "* ]]; then
		selftest_done=1
		LAST_BOOT_WHY=
		n0=$n failed0=$failed passed0=$passed
		t0=$(date +%s)
		KILL_SIM_AFTER=10 run_boot "$k" "${DRIVERS%% *}" basic > "$CACHE/selftest.tap"
		t1=$(date +%s)
		n=$n0 failed=$failed0 passed=$passed0
		if [[ "$LAST_BOOT_WHY" == *"simulator died"* ]] && [ $((t1 - t0)) -lt 60 ]; then
			tap ok "harness: a simulator killed mid-run fails the boot in $((t1 - t0))s with a clear message"
		else
			tap notok "harness: a simulator killed mid-run fails the boot with a clear message" \
				"got: '${LAST_BOOT_WHY}' after $((t1 - t0))s"
		fi
	fi
done

note "expected failures of the peer (TODO): $todo"
note "time: $(( $(date +%s) - start_time ))s"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
