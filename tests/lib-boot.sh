# SPDX-License-Identifier: GPL-2.0
# QEMU boots for the test suite and the benchmark: TAP bookkeeping and
# run_boot, which starts the simulator(s) a guest suite asks for, boots the
# guest and reads its results. Sourced by tests/run.sh and scripts/bench.sh;
# expects top, CACHE, QEMU, SIM, RUNS, TIMEOUT_SCALE, and per kernel the
# variables of its env file plus INITRD.
# BOOT_APPEND, when set, is added to the guest kernel's command line (the
# benchmark passes its settings as gv.* arguments this way).
# shellcheck shell=bash

n=0 passed=0 failed=0 todo=0 skipped=0
start_time=$(date +%s)

# A check reported "ok ... # SKIP REASON" did not run: it counts as
# skipped, never as passed.
tap() {	# tap ok|notok DESCRIPTION [DIAGNOSTIC...]
	local res=$1 desc=$2
	shift 2
	n=$((n + 1))
	if [ "$res" = ok ] && [[ "$desc" == *"# SKIP"* ]]; then
		echo "ok $n - $desc"
		skipped=$((skipped + 1))
	elif [ "$res" = ok ]; then
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

# sim_traffic DIR NDEV: the request, event and kick counters of the boot's
# simulators, asked on their control sockets (a second client beside the
# guest's), as one word; empty when none answers
sim_traffic() {
	python3 - "$1" "$2" <<'PY' 2>/dev/null
import socket, sys
out = []
for i in range(int(sys.argv[2])):
    try:
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(2)
        s.connect(f"{sys.argv[1]}/ctl{i}.sock")
        s.sendall(b"stats\n")
        r = s.makefile().readline().split()
        s.close()
        out += [kv for kv in r if kv.split("=")[0] in ("requests", "events", "kicks")]
    except OSError:
        pass
print(",".join(out))
PY
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

# guest_results TAG CONSOLE: the guest's checks, as TAP. A kernel message
# on the console can land inside a result line: the line is read from its
# "GV: " prefix wherever that starts.
guest_results() {
	local line
	while IFS= read -r line; do
		case "$line" in
		*"GV: ok - "*) tap ok "$1 ${line#*GV: ok - }" ;;
		*"GV: not ok - "*) tap notok "$1 ${line#*GV: not ok - }" ;;
		esac
	done < <(tr -d '\r' < "$2")
}

# guest_verdict TAG CONSOLE QRC: the guest's checks and the boot's own
# for a guest that ended by itself (QEMU exit status QRC): it passed when
# the guest says rc=0 and QEMU agrees. A guest that failed without a failed
# check the host could read (a shell error ended the suite, or a kernel
# message cut the line) fails one more check, whose name says how it ended
# and in which step: a summary of failures shows names only.
guest_verdict() {
	local nfail0=$failed
	guest_results "$1" "$2"
	if [ "$3" = "$G_OKRC" ] && grep -q '^GV-END rc=0' "$2"; then
		tap ok "$1 boot completed with every test passed"
		return 0
	fi
	local named=$((failed - nfail0))
	tap notok "$1 boot completed with every test passed" "QEMU exit status $3" \
		"console: $2" "$(grep -E 'GV-END|GV-INIT' "$2" | head -n 3)" \
		"$(grep -a 'not ok' "$2" | grep -v '# TODO' | head -n 3)"
	[ "$named" = 0 ] &&
		tap notok "$1 the guest named its failure (it did not: $(guest_end "$2" "$3"); it was in: $(last_step "$2"))"
	return 0
}

# guest_end CONSOLE QRC: how the guest's run ended, in words
guest_end() {
	local rc
	rc=$(tr -d '\r' < "$1" | sed -n 's/^GV-END rc=\([0-9]*\).*/\1/p' | tail -n 1)
	if [ -z "$rc" ]; then
		echo "no GV-END line, QEMU exit status $2"
	else
		echo "the suite exited with status $rc, QEMU exit status $2"
	fi
}

# guest_machine: the QEMU program and machine arguments of the kernel's
# architecture (KARCH of its env file) and the transport (TRANSPORT):
#   x86_64  q35, vhost-user-gpio-pci, exit status through isa-debug-exit
#   arm64   -M virt, vhost-user-gpio-device (virtio-MMIO), or with
#           TRANSPORT=pci vhost-user-gpio-pci; QEMU ends with status 0 at
#           the guest's reboot (the GV-END line tells pass from fail)
# Sets G_QEMU, G_MACH (array), G_DEV, G_CON, G_CTL, G_OKRC.
guest_machine() {
	if [ "${KARCH:-x86_64}" = arm64 ]; then
		G_QEMU=${QEMU_ARM64:-qemu-system-aarch64}
		G_MACH=(-machine virt,memory-backend=mem -cpu "${ARM64_CPU:-max,pauth-impdef=on}")
		G_DEV=vhost-user-gpio-device
		[ "${TRANSPORT:-}" = pci ] && G_DEV=vhost-user-gpio-pci
		G_CON=ttyAMA0 G_CTL=ttyAMA1 G_OKRC=0
	else
		G_QEMU=$QEMU
		G_MACH=(-machine q35,memory-backend=mem
			-device isa-debug-exit,iobase=0xf4,iosize=0x04)
		G_DEV=vhost-user-gpio-pci
		G_CON=ttyS0 G_CTL=ttyS1 G_OKRC=33
	fi
}

# plug_order NDEV: the device indices in the order their -device options
# are given. QEMU puts the first virtio-MMIO device plugged on the last
# transport, which the guest probes last, so on MMIO the devices are plugged
# last first: device 0 is then the guest's first virtio device, as on PCI.
plug_order() {
	if [ "$G_DEV" = vhost-user-gpio-device ]; then
		seq $(($1 - 1)) -1 0
	else
		seq 0 $(($1 - 1))
	fi
}

# boot_label KERNEL: the kernel's name in results and run directories: the
# kernel, with "-pci" when an arm64 guest uses the PCI transport
boot_label() {
	if [ "${KARCH:-x86_64}" = arm64 ] && [ "${TRANSPORT:-}" = pci ]; then
		echo "$1-pci"
	else
		echo "$1"
	fi
}

# make_dtb DIR TEMPLATE NDEV KERNEL-ARGS...: DIR/boot.dtb, QEMU's own device
# tree for this machine with TEMPLATE (a dts fragment) added. QEMU is
# started stopped (-S) with the same machine and devices, each device on a
# throwaway simulator of its own: its monitor dumps the tree (dumpdtb) and
# tells on which virtio-mmio transport each device landed (info qtree).
# In TEMPLATE, @MMIO<i>@ stands for the node path of device i's transport,
# e.g. /virtio_mmio@a003e00. Sets DT_NODES ("PATH ..." in device order).
# Non-zero, with the reason on stderr, when it cannot.
make_dtb() {
	local d=$1 tpl=$2 ndev=$3 i t addr node
	shift 3
	local -a pargs=() ppids=()
	for ((i = 0; i < ndev; i++)); do
		"$SIM" --socket "$d/probe$i.sock" --once --lines 8 > "$d/probe-sim$i.log" 2>&1 &
		ppids+=($!)
	done
	for i in $(plug_order "$ndev"); do
		pargs+=(-chardev "socket,id=vgpio$i,path=$d/probe$i.sock"
			-device "$G_DEV,chardev=vgpio$i,id=gv$i")
	done
	for ((i = 0; i < ndev; i++)); do
		t=0
		while [ ! -S "$d/probe$i.sock" ]; do
			if [ $t -ge 50 ]; then
				echo "the probe simulator $i did not start" >&2
				kill "${ppids[@]}" 2>/dev/null
				return 1
			fi
			sleep 0.1
			t=$((t + 1))
		done
	done
	printf 'dumpdtb %s\ninfo qtree\nquit\n' "$d/base.dtb" |
		timeout $((60 * TIMEOUT_SCALE)) "$G_QEMU" -accel tcg -smp 2 -m 512 -nodefaults \
		-display none -S -monitor stdio \
		-object memory-backend-memfd,id=mem,size=512M,share=on "${G_MACH[@]}" \
		-serial null -serial null "${pargs[@]}" "$@" 2>&1 | tr -d '\r' > "$d/probe.log"
	kill "${ppids[@]}" 2>/dev/null
	wait "${ppids[@]}" 2>/dev/null
	[ -s "$d/base.dtb" ] || { echo "QEMU dumped no device tree (see $d/probe.log)" >&2; return 1; }
	dtc -q -I dtb -O dts -o "$d/base.dts" "$d/base.dtb" ||
		{ echo "dtc cannot read $d/base.dtb" >&2; return 1; }
	cp "$d/base.dts" "$d/boot.dts"
	sed -n '/^\/dts-v1\/;/!p' "$tpl" > "$d/fragment.dts"
	DT_NODES=
	for ((i = 0; i < ndev; i++)); do
		# The transport's address: the last "mmio ADDR/SIZE" before the
		# device in its virtio-mmio bus.
		addr=$(awk -v id="\"gv$i\"" '
			$1 == "mmio" { split($2, a, "/"); last = a[1] }
			$1 == "dev:" && $2 ~ /^vhost-user-gpio/ && $4 == id { print last; exit }
			' "$d/probe.log")
		[ -n "$addr" ] || { echo "info qtree does not show device gv$i on a virtio-mmio transport (see $d/probe.log)" >&2; return 1; }
		node=/virtio_mmio@$(printf '%x' "0x$addr")
		grep -q "^	${node#/} {" "$d/base.dts" ||
			{ echo "no node $node in QEMU's device tree" >&2; return 1; }
		sed -i "s|@MMIO$i@|$node|g" "$d/fragment.dts"
		DT_NODES="$DT_NODES $node"
	done
	DT_NODES=${DT_NODES# }
	cat "$d/fragment.dts" >> "$d/boot.dts"
	dtc -q -I dts -O dtb -o "$d/boot.dtb" "$d/boot.dts" 2> "$d/dtc.log" ||
		{ echo "dtc: $(head -n 3 "$d/dtc.log")" >&2; return 1; }
}

# sim_supervise LOG MAX SIM-ARGS...: the simulator, started again on the
# same sockets each time it exits with status 3 (its "crash" control
# command, --crash-after), at most MAX times, each restart noted in LOG (the
# simulator's log, appended to). Any other exit, or a crash past MAX,
# ends it with the simulator's status, so that a simulator that dies for
# another reason is still a death. SIGTERM is passed on to the simulator.
# Run in the background; the simulator replaces a stale socket file itself.
sim_supervise() {
	local log=$1 max=$2 rc r=0 child=
	shift 2
	trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 143' TERM
	while :; do
		"$SIM" "$@" >> "$log" 2>&1 &
		child=$!
		wait "$child"
		rc=$?
		child=
		if [ "$rc" != 3 ] || [ "$r" -ge "$max" ]; then
			[ "$rc" = 3 ] &&
				echo "harness: the simulator crashed (status 3) after $max restarts: not restarted" >> "$log"
			return "$rc"
		fi
		r=$((r + 1))
		echo "harness: the simulator crashed (status 3): restart $r of $max on the same sockets" >> "$log"
	done
}

# qmp_plug SOCKET CHARDEV DEVICE-JSON: on a QEMU started stopped (-S) with a
# QMP server on SOCKET, wait until chardev CHARDEV is connected, add the
# device (device_add with the arguments of DEVICE-JSON) and start the
# machine. A vhost-user device must talk to its back end when it is
# realized, but a socket chardev with reconnect-ms connects only after QEMU
# has started (asynchronously), so the device of a restart suite is plugged
# here, into a PCIe root port, before the guest runs. Non-zero, with the
# reason on stderr, when it cannot (30 s at most).
qmp_plug() {
	timeout 30 python3 - "$@" <<'PY'
import json, os, socket, sys, time
path, chardev, dev = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
end = time.time() + 25
while not os.path.exists(path):
    if time.time() > end:
        sys.exit("no QMP socket " + path)
    time.sleep(0.05)
s = socket.socket(socket.AF_UNIX)
s.connect(path)
f = s.makefile("rw")
f.readline()

def cmd(name, args=None):
    f.write(json.dumps({"execute": name, **({"arguments": args} if args else {})}) + "\n")
    f.flush()
    while True:
        r = json.loads(f.readline())
        if "event" in r:
            continue
        if "error" in r:
            sys.exit(f"{name}: {r['error'].get('desc')}")
        return r["return"]

cmd("qmp_capabilities")
while True:
    c = [x for x in cmd("query-chardev") if x["label"] == chardev]
    if c and not c[0]["filename"].startswith("disconnected"):
        break
    if time.time() > end:
        sys.exit(f"chardev {chardev} did not connect: {c}")
    time.sleep(0.05)
cmd("device_add", dev)
cmd("cont")
PY
}

# run_boot KERNEL DRIVER SUITE: one guest boot with the suite's simulator(s)
# (TRANSPORT=pci: the PCI transport on arm64, see guest_machine). A suite
# with a "# devicetree: FILE" header (FILE under tests/data) boots with a
# device tree made by make_dtb (arm64 virtio-MMIO only); the guest gets
# the transports' node paths as gv.dtnodes=PATH[,PATH]. A suite with
# "# restart: yes" has device 0's simulator under sim_supervise (restarted
# after a crash, up to SIM_RESTARTS times, default 5), and QEMU reconnects
# the control chardev to the new simulator (reconnect-ms=RECONNECT_MS,
# default 200). The vhost-user chardev is not reconnected: QEMU 10's
# vhost-user-gpio aborts when its back end comes back (vub_connect starts
# the vhost device that vub_disconnect cleaned up: "vhost_dev_start:
# Assertion `hdev->vhost_ops' failed"). VHOST_RECONNECT=1 reconnects it
# too, to try a QEMU that can (the device is then plugged by qmp_plug).
run_boot() {
	local k=$1 drv=$2 suite=$3 file=$top/tests/guest/$3.sh label
	guest_machine
	label=$(boot_label "$k")
	local w=$RUNS/$label-$drv-$suite${BOOT_SUFFIX:-} tag="[$label/$drv/$suite]"
	local simargs ndev limit dtsrc why=
	simargs=$(suite_meta "$file" sim)
	ndev=$(suite_meta "$file" devices)
	ndev=${ndev:-1}
	limit=$(suite_meta "$file" timeout)
	limit=$(( ${limit:-240} * TIMEOUT_SCALE ))
	[ "$KDEBUG" = 1 ] && limit=$((limit * 2))
	# An arm64 guest under TCG runs process-heavy phases up to twice as
	# slowly as an x86 one (batch's four writers print nothing for more
	# than 120 s): its bounds are doubled, like the debug kernel's.
	local slow=1
	[ "${KARCH:-x86_64}" = arm64 ] && slow=2
	limit=$((limit * slow))
	simargs=${simargs//@DATA@/$top/tests/data}
	dtsrc=$(suite_meta "$file" devicetree)
	# reconn: the reconnect option of device 0's control chardev; vreconn:
	# of its vhost-user chardev too (VHOST_RECONNECT=1)
	local restart reconn="" vreconn=""
	restart=$(suite_meta "$file" restart)
	[ "$restart" = yes ] && reconn=,reconnect-ms=${RECONNECT_MS:-200}
	[ -n "$reconn" ] && [ "${VHOST_RECONNECT:-0}" = 1 ] && vreconn=$reconn
	if [ -n "$vreconn" ] && [ "$G_DEV" != vhost-user-gpio-pci ]; then
		tap notok "$tag restart suite" "VHOST_RECONNECT=1 plugs the device into a PCIe root port: it needs an x86_64 guest"
		return
	fi

	rm -rf "$w" && mkdir -p "$w"
	local -a qargs=() spids=() kargs=()
	# TCG vCPUs are host threads: on a loaded 2-core host a guest CPU can
	# go without host time for tens of seconds, which the guest reports
	# as an RCU stall or a soft lockup with a backtrace. Such reports are
	# about the host; the bounds are raised so they stay out of the logs
	# (suites that look for stalls of their own lower them at run time).
	local i append="console=$G_CON loglevel=5 panic=-1 gv.test=$suite gv.driver=$drv gv.debug=$KDEBUG gv.ctl=$G_CTL"
	append="$append rcupdate.rcu_cpu_stall_timeout=120 watchdog_thresh=30"
	# The same starvation during the boot's IO-APIC timer check makes an
	# x86 kernel panic ("IO-APIC + timer doesn't work!"; seen in 2 of
	# about 20 boots on 6.12 with a host load of 24): the check is skipped.
	[ "${KARCH:-x86_64}" = arm64 ] || append="$append no_timer_check"
	kargs=(-kernel "$KIMAGE" -initrd "$INITRD")
	if [ -n "$dtsrc" ]; then
		if [ "$G_DEV" != vhost-user-gpio-device ]; then
			tap notok "$tag device tree" "the devicetree suites need an arm64 guest on virtio-MMIO"
			return
		fi
		DT_NODES=
		if ! make_dtb "$w" "$top/tests/data/$dtsrc" "$ndev" "${kargs[@]}" -append "$append" \
			2> "$w/dtb.log"; then
			tap notok "$tag device tree made from QEMU's, with $dtsrc" "$(tail -n 3 "$w/dtb.log")"
			return
		fi
		tap ok "$tag device tree made from QEMU's, with $dtsrc: devices on $DT_NODES"
		kargs+=(-dtb "$w/boot.dtb")
		append="$append gv.dtnodes=${DT_NODES// /,}"
	fi
	append="$append${BOOT_APPEND:+ $BOOT_APPEND}"
	for ((i = 0; i < ndev; i++)); do
		if [ $i -gt 0 ]; then
			simargs=$(suite_meta "$file" "sim$i")
			simargs=${simargs//@DATA@/$top/tests/data}
		fi
		if [ "$i" = 0 ] && [ -n "$reconn" ]; then
			: > "$w/sim$i.log"
			# shellcheck disable=SC2086
			sim_supervise "$w/sim$i.log" "${SIM_RESTARTS:-5}" \
				--socket "$w/vgpio$i.sock" --ctl "$w/ctl$i.sock" --once $simargs &
		else
			# shellcheck disable=SC2086
			"$SIM" --socket "$w/vgpio$i.sock" --ctl "$w/ctl$i.sock" --once $simargs \
				> "$w/sim$i.log" 2>&1 &
		fi
		spids+=($!)
	done
	for i in $(plug_order "$ndev"); do
		if [ "$i" = 0 ] && [ -n "$vreconn" ]; then
			# Plugged by qmp_plug once the chardev is connected.
			qargs+=(-chardev "socket,id=vgpio$i,path=$w/vgpio$i.sock$vreconn"
				-device "pcie-root-port,id=gvport0,chassis=1"
				-qmp "unix:$w/qmp.sock,server=on,wait=off" -S)
		else
			qargs+=(-chardev "socket,id=vgpio$i,path=$w/vgpio$i.sock"
				-device "$G_DEV,chardev=vgpio$i,id=gv$i")
		fi
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

	"$G_QEMU" -accel tcg -smp 2 -m 512 -nodefaults -display none -no-reboot \
		-object memory-backend-memfd,id=mem,size=512M,share=on \
		"${G_MACH[@]}" \
		-chardev "file,id=con,path=$w/console.log" -serial chardev:con \
		-chardev "socket,id=ctl,path=$w/ctl0.sock$reconn" -serial chardev:ctl \
		"${qargs[@]}" "${kargs[@]}" -append "$append" \
		> "$w/qemu.log" 2>&1 &
	local qpid=$! why= gv_lines=0 cur killed_at= t0=$SECONDS last=$SECONDS
	local traffic= tnow polled=$SECONDS
	if [ -n "$vreconn" ] &&
		! qmp_plug "$w/qmp.sock" vgpio0 \
			"{\"driver\": \"$G_DEV\", \"chardev\": \"vgpio0\", \"id\": \"gv0\", \"bus\": \"gvport0\"}" \
			> "$w/qmp.log" 2>&1; then
		why="device 0 could not be plugged: $(tail -n 1 "$w/qmp.log")"
	fi
	# Bounds from progress: the boot fails when the guest has neither
	# printed a GV line (a step, a result, a log line) nor moved any
	# device traffic (the simulators' request, event and kick counters) for
	# $stall seconds, or when it runs past the hard limit; a slow guest
	# that keeps making progress is not failed for its speed. Both are
	# measured in wall-clock seconds.
	local stall=$(( ${BOOT_STALL:-120} * TIMEOUT_SCALE ))
	[ "$KDEBUG" = 1 ] && stall=$((stall * 2))
	stall=$((stall * slow))
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
		if [ $((SECONDS - polled)) -ge 5 ]; then
			polled=$SECONDS
			tnow=$(sim_traffic "$w" "$ndev")
			if [ -n "$tnow" ] && [ "$tnow" != "$traffic" ]; then
				traffic=$tnow
				last=$SECONDS
			fi
		fi
		# The harness self-test: kill the simulator once the guest has
		# reached the given GV line (the driver is loaded and traffic is
		# running), not after a fixed time.
		if [ -n "${KILL_SIM_ON:-}" ] && [ -z "$killed_at" ] &&
			grep -q "$KILL_SIM_ON" "$w/console.log" 2>/dev/null; then
			kill -9 "${spids[0]}" 2>/dev/null
			killed_at=$SECONDS
		fi
		# BOOT_STOP_ON_FAIL (scripts/mutants.sh): the first failed check
		# decides; the rest of the suite is not waited for.
		if [ -n "${BOOT_STOP_ON_FAIL:-}" ] && [ -z "$why" ] &&
			tr -d '\r' < "$w/console.log" | grep -a '^GV: not ok' | grep -qv '# TODO'; then
			why="stopped at the first failed check (BOOT_STOP_ON_FAIL)"
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

	# The boot as a whole (the coverage data is base64: not a report).
	local bad
	bad=$(tr -d '\r' < "$w/console.log" | grep -v '^GV-GCDA: ' | grep -E "$BAD_RE" | head -n 5)
	if [ -n "$why" ]; then
		guest_results "$tag" "$w/console.log"
		tap notok "$tag boot completed" "$why" "console: $w/console.log" \
			"$(tr -d '\r' < "$w/console.log" | grep -v '^GV-LOG' | tail -n 5)"
		echo "GV-HOST: $why" >> "$w/console.log"
		LAST_BOOT_WHY=$why
		# For the harness self-test: how long the failure took to show
		# after the simulator was killed.
		[ -n "$killed_at" ] && LAST_BOOT_KILL_DELAY=$((SECONDS - killed_at))
	else
		guest_verdict "$tag" "$w/console.log" "$qrc"
	fi
	if [ -n "$bad" ]; then
		tap notok "$tag kernel log clean" "console: $w/console.log" "$bad"
	else
		tap ok "$tag kernel log clean"
	fi
	# Our module built with gcov (COV_DIR, set by tests/run.sh): the
	# guest printed its coverage data at the end.
	if [ "$drv" = ours ] && [ -n "${COV_DIR:-}" ]; then
		local cov
		if cov=$("$top/scripts/coverage.sh" take "$w/console.log" "$w/gpio-virtio.gcda" 2>&1); then
			tap ok "$tag coverage data handed back ($cov)"
		else
			tap notok "$tag coverage data handed back" "$cov"
		fi
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
	local k=$1 drv out script ko extra cov
	local -a mods=()
	unset KARCH KMAKEARGS
	# shellcheck disable=SC1090
	. "$CACHE/kernels/$k.env"
	for drv in $DRIVERS; do
		out=$CACHE/build/$k/modules
		mkdir -p "$out"
		# Our module with gcov profiling where the kernel has gcov
		# (the 7.2 debug kernel; COVERAGE=0: never).
		cov=0
		[ "$drv" = ours ] && [ "${COVERAGE:-1}" != 0 ] &&
			grep -qx 'CONFIG_GCOV_KERNEL=y' "$KDIR/.config" 2>/dev/null && cov=1
		case "$drv" in
		ours) script=build-module.sh ko=gpio-virtio.ko ;;
		intree) script=build-intree.sh ko=gpio-virtio-intree.ko ;;
		upstream)
			# Our driver built in tree: the 7.2 kernel only.
			[[ " ${UPSTREAM_KERNELS:-7.2} " == *" $k "* ]] || continue
			script=build-upstream.sh ko=gpio-virtio-upstream.ko
			;;
		esac
		if COVERAGE=$cov "$top/scripts/$script" "$k" "$out" > "$CACHE/build-$k-$drv.log" 2>&1 &&
			[ -f "$out/$ko" ]; then
			tap ok "[$k/$drv] module builds$([ $cov = 1 ] && echo ' (with gcov profiling)')"
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
