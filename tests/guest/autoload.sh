#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 8
# drivers: ours
# kernels: 6.1 6.12
# Autoload: the module DKMS built (tests/packaging.sh) is installed into
# /lib/modules/$(uname -r)/updates/dkms, depmod runs, and a uevent for the
# virtio GPIO device loads it through its modalias: no insmod.
. /tests/lib.sh

KO=/modules/dkms/gpio-virtio.ko
rel=$(uname -r)
dest=/lib/modules/$rel/updates/dkms

if [ ! -f "$KO" ]; then
	report 1 "the DKMS-built module is in the initramfs" \
		"$KO missing: tests/packaging.sh did not build one for this kernel"
	finish
fi
report 0 "the DKMS-built module is in the initramfs"

lsmod | grep -q '^gpio_virtio ' && gv_chip >/dev/null
expect_eq "nothing loaded the driver before the test" 1 $?

mkdir -p "$dest"
cp "$KO" "$dest/"
check "busybox depmod indexes /lib/modules/$rel" depmod
grep -q 'virtio:d00000029v' "/lib/modules/$rel/modules.alias" 2>/dev/null
report $? "modules.alias maps the virtio GPIO modalias to gpio_virtio" \
	"$(head -n 3 "/lib/modules/$rel/modules.alias" 2>/dev/null)"

# The GPIO device: the virtio device whose device ID reads 0x0029.
dev=
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device" 2>/dev/null)" = 0x0029 ] && dev=$d
done
[ -n "$dev" ]
report $? "a virtio device with ID 0x0029 exists" "$(cat /sys/bus/virtio/devices/*/device 2>/dev/null)"
[ -n "$dev" ] || finish
expect_eq "its modalias" "virtio:d00000029v00001AF4" "$(cat "$dev/modalias")"

# A hotplug helper that loads the module a uevent's MODALIAS names. Debian's
# kernels have no uevent helper (CONFIG_UEVENT_HELPER), so listen on netlink
# with busybox uevent there; use /proc/sys/kernel/hotplug where it exists.
cat > /sbin/gv-hotplug <<'EOF'
#!/bin/sh
[ -n "$MODALIAS" ] || exit 0
echo "$ACTION $MODALIAS" >> /tmp/hotplug.log
/bin/busybox modprobe "$MODALIAS" >> /tmp/hotplug.log 2>&1
EOF
chmod 755 /sbin/gv-hotplug
: > /tmp/hotplug.log
listener=
if [ -w /proc/sys/kernel/hotplug ]; then
	echo /sbin/gv-hotplug > /proc/sys/kernel/hotplug
	say "uevent helper: /proc/sys/kernel/hotplug"
else
	uevent /sbin/gv-hotplug &
	listener=$!
	sleep 0.5
	say "uevent helper: busybox uevent on netlink (no /proc/sys/kernel/hotplug)"
fi

echo add > "$dev/uevent"
i=0
while [ $i -lt 100 ]; do
	lsmod | grep -q '^gpio_virtio ' && gv_chip >/dev/null && break
	sleep 0.1
	i=$((i + 1))
done
lsmod | grep -q '^gpio_virtio ' && grep -q "^add virtio:d00000029v" /tmp/hotplug.log
report $? "the uevent loaded gpio_virtio by its modalias" "$(cat /tmp/hotplug.log)"
wait_chip
report $? "the chip appeared"
chip=$(gv_chip)
use_gen 2
gpiodetect | grep -q "^$chip .*(8 lines)"
report $? "gpiodetect lists $chip with 8 lines" "$(gpiodetect 2>&1)"
hctl level 3 1 >/dev/null && v=$(g_get "$chip" 3)
expect_eq "the autoloaded driver reads a line" 1 "$v"

[ -w /proc/sys/kernel/hotplug ] && echo > /proc/sys/kernel/hotplug
[ -n "$listener" ] && kill "$listener" 2>/dev/null
check "unload the driver" rmmod gpio_virtio
finish
