# SPDX-License-Identifier: GPL-2.0
# QEMU boots for the test suite and the benchmark: TAP bookkeeping and
# run_boot, which starts the simulator(s) a guest suite asks for, boots the
# guest and reads its results. Sourced by tests/run.sh and scripts/bench.sh;
# expects top, CACHE, QEMU, SIM, RUNS, TIMEOUT_SCALE, and per kernel the
# variables of its env file plus INITRD.
# BOOT_APPEND, when set, is added to the guest kernel's command line (the
# benchmark passes its settings as gv.* arguments this way).
# shellcheck shell=bash

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

# Bad kernel reports: any of these in a guest console fails the boot. A
# kmemleak report of the driver under test shows as "unreferenced object"
# (the guest's init prints those in full after its scan; the kernel's own
# "N new suspected memory leaks" line counts every leak, the kernel's too).
BAD_RE='BUG:|WARNING:|Oops|Call Trace:|KASAN|UBSAN|unreferenced object|Kernel panic|general protection fault|INFO: task .* blocked|possible recursive locking|circular locking'

# running PID: the process exists and is not a zombie
running() {
	[ -r "/proc/$1/stat" ] && ! grep -qE '^[0-9]+ \(.*\) Z' "/proc/$1/stat" 2>/dev/null
}

# suite_meta FILE KEY: the value of a "# KEY: ..." header line
suite_meta() {
	sed -n "s/^# $2: //p" "$1" | head -n 1
}

# last_step CONSOLE: the check the guest was in (its last GV-STEP line, and
# the last result after it), for a boot that ran out of time
last_step() {
	tr -d '\r' < "$1" | awk '
		/^GV-STEP: / { step = substr($0, 10); res = "" }
		/^GV: / { res = $0 }
		END {
			if (step == "") step = "(no step started)"
			printf "%s%s", step, res == "" ? "" : " (last result: " res ")"
		}'
}

# run_boot KERNEL DRIVER SUITE: one guest boot with the suite's simulator(s)
run_boot() {
	local k=$1 drv=$2 suite=$3 file=$top/tests/guest/$3.sh
	local w=$RUNS/$k-$drv-$suite${BOOT_SUFFIX:-} tag="[$k/$drv/$suite]"
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
		-append "console=ttyS0 loglevel=5 panic=-1 gv.test=$suite gv.driver=$drv gv.debug=$KDEBUG${BOOT_APPEND:+ $BOOT_APPEND}" \
		> "$w/qemu.log" 2>&1 &
	local qpid=$! why= gv_lines=0 cur killed_at= t0=$SECONDS last=$SECONDS
	# Bounds from progress: the boot fails when the guest has printed no
	# GV line (a step, a result, a log line) for $stall seconds, or when it
	# runs past the hard limit; a slow guest that keeps making progress is
	# not failed for its speed. Both are measured in wall-clock seconds.
	local stall=$(( ${BOOT_STALL:-120} * TIMEOUT_SCALE ))
	[ "$KDEBUG" = 1 ] && stall=$((stall * 2))
	local hard=$((limit * 3))
	while running "$qpid"; do
		for ((i = 0; i < ndev; i++)); do
			# A simulator leaves on its own when QEMU closes the
			# connection: only a death while QEMU runs counts.
			if ! running "${spids[$i]}" && sleep 0.5 && running "$qpid"; then
				why="the simulator died during the boot (device $i); see $w/sim$i.log"
			fi
		done
		cur=$(grep -c '^GV' "$w/console.log" 2>/dev/null)
		if [ "${cur:-0}" != "$gv_lines" ]; then
			gv_lines=${cur:-0}
			last=$SECONDS
		fi
		# The harness self-test: kill the simulator once the guest has
		# reached the given GV line (the driver is loaded and traffic is
		# running), not after a fixed time.
		if [ -n "${KILL_SIM_ON:-}" ] && [ -z "$killed_at" ] &&
			grep -q "$KILL_SIM_ON" "$w/console.log" 2>/dev/null; then
			kill -9 "${spids[0]}" 2>/dev/null
			killed_at=$SECONDS
		fi
		[ $((SECONDS - last)) -ge "$stall" ] &&
			why="the guest made no progress for ${stall}s in: $(last_step "$w/console.log")"
		[ $((SECONDS - t0)) -ge "$hard" ] &&
			why="the guest did not finish within ${hard}s; it was in: $(last_step "$w/console.log")"
		if [ -n "$why" ]; then
			kill "$qpid" 2>/dev/null
			sleep 1
			kill -9 "$qpid" 2>/dev/null
			break
		fi
		sleep 0.2
	done
	wait "$qpid"
	local qrc=$? src
	# A simulator that is gone has its exit status collected here: one
	# that failed (exit 1, or killed) while QEMU ended on its own without
	# finishing the suite is why QEMU ended (QEMU aborts in some states
	# when its back end dies). Name that rather than an exit status.
	for ((i = 0; i < ndev; i++)); do
		running "${spids[$i]}" && continue
		wait "${spids[$i]}"
		src=$?
		if [ -z "$why" ] && [ "$src" != 0 ] && ! grep -q '^GV-END' "$w/console.log"; then
			why="the simulator died during the boot (device $i, exit status $src) and QEMU exited with status $qrc; see $w/sim$i.log, $w/qemu.log"
		fi
	done
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
		echo "GV-HOST: $why" >> "$w/console.log"
		LAST_BOOT_WHY=$why
		# For the harness self-test: how long the failure took to show
		# after the simulator was killed.
		[ -n "$killed_at" ] && LAST_BOOT_KILL_DELAY=$((SECONDS - killed_at))
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


# prepare_kernel KERNEL: fetch the kernel, build the modules of $DRIVERS and
# the test modules for it, and the initramfs ($INITRD); the kernel's env file
# variables stay set. Non-zero when the kernel cannot be booted.
prepare_kernel() {
	fetch_kernel "$1" && build_kernel_files "$1"
}

# fetch_kernel KERNEL: the kernel's image, headers and source in $CACHE
fetch_kernel() {
	"$top/scripts/fetch-kernel.sh" "$1" > "$CACHE/fetch-$1.log" 2>&1 && return 0
	tap notok "[$1] kernel available" "$(tail -n 5 "$CACHE/fetch-$1.log")"
	return 1
}

# build_kernel_files KERNEL: the modules and the initramfs of a fetched kernel
build_kernel_files() {
	local k=$1 drv out script ko extra
	local -a mods=()
	# shellcheck disable=SC1090
	. "$CACHE/kernels/$k.env"
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
	INITRD=$CACHE/build/$k/initrd${RUN_TAG:+-$RUN_TAG}.gz
	export DKMS_KO=
	[ -f "$CACHE/build/$k/dkms/gpio-virtio.ko" ] && DKMS_KO=$CACHE/build/$k/dkms/gpio-virtio.ko
	if ! "$top/scripts/mkinitramfs.sh" "$CACHE/kernels/$k.env" "$INITRD" "${mods[@]}" \
		> "$CACHE/initrd-$k.log" 2>&1; then
		tap notok "[$k] initramfs builds" "$(tail -n 5 "$CACHE/initrd-$k.log")"
		return 1
	fi
	return 0
}
