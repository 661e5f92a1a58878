#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Write the upstream form of the driver: a patch (git format-patch style)
# against Debian unstable's linux-source-7.2 that replaces the in-tree
# drivers/gpio/gpio-virtio.c with ours and gives GPIO_VIRTIO in
# drivers/gpio/Kconfig the help text of our Kconfig.
#
# Usage: scripts/upstream-patch.sh [-q]
#   -q  print only the patch's path (for scripts), not the patch
#
# The patch goes to $CACHE/upstream/0001-<subject>.patch (.cache/upstream/
# by default); the last line on stdout is its path. It is made against the
# source tree the rig uses for 7.2 (KSRC of $CACHE/kernels/7.2.env), or,
# without that, the one scripts/build-debug-kernel.sh --source unpacks, and
# must apply there with git apply --check: the script fails otherwise.
# The tree is only read. scripts/build-upstream.sh builds the result in
# tree, scripts/check.sh runs checkpatch.pl --strict on it.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

QUIET=0
[ "${1:-}" = -q ] && QUIET=1
VER=7.2
OUT=$CACHE/upstream

KSRC=
if env_files_ok "$CACHE/kernels/$VER.env"; then
	# shellcheck disable=SC1090
	KSRC=$(. "$CACHE/kernels/$VER.env" && echo "$KSRC")
fi
if [ -z "$KSRC" ]; then
	KSRC=$("$REPO/scripts/build-debug-kernel.sh" --source | tail -n 1) ||
		die "cannot get the $VER source (scripts/build-debug-kernel.sh --source)"
fi
for f in drivers/gpio/gpio-virtio.c drivers/gpio/Kconfig drivers/gpio/Makefile; do
	[ -f "$KSRC/$f" ] || die "$KSRC has no $f"
done
srcver=$(cat "$(dirname "$KSRC")/.version" 2>/dev/null || echo unknown)
grep -q '^config GPIO_VIRTIO$' "$KSRC/drivers/gpio/Kconfig" ||
	die "$KSRC/drivers/gpio/Kconfig has no GPIO_VIRTIO entry"
grep -qE '^obj-\$\(CONFIG_GPIO_VIRTIO\)[[:space:]]+\+= gpio-virtio\.o$' "$KSRC/drivers/gpio/Makefile" ||
	die "$KSRC/drivers/gpio/Makefile does not build gpio-virtio.o from CONFIG_GPIO_VIRTIO"

# Git must not take the tree (or a temporary directory) for part of a
# repository around it (the cache may be inside this checkout).
git_in() {
	local d=$1
	shift
	GIT_CEILING_DIRECTORIES=$(dirname "$d") git -C "$d" "$@"
}

mkdir -p "$OUT"
exec 8>"$OUT/.lock"
flock 8
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The help text of our Kconfig's GPIO_VIRTIO entry, as it is there.
awk '
	/^config / { inside = ($2 == "GPIO_VIRTIO"); help = 0; next }
	inside && /^[[:space:]]+help[[:space:]]*$/ { help = 1; next }
	inside && help { print }
' "$REPO/Kconfig" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}' >"$tmp/help"
[ -s "$tmp/help" ] || die "$REPO/Kconfig: no help text for GPIO_VIRTIO"

# A repository holding the two files as the tree has them, then ours.
r=$tmp/repo
mkdir -p "$r/drivers/gpio"
cp "$KSRC/drivers/gpio/gpio-virtio.c" "$KSRC/drivers/gpio/Kconfig" "$r/drivers/gpio/"
git_in "$r" init -q
git_in "$r" config user.name "Your Name"
git_in "$r" config user.email "you@example.org"
git_in "$r" add drivers
GIT_AUTHOR_DATE="2000-01-01T00:00:00Z" GIT_COMMITTER_DATE="2000-01-01T00:00:00Z" \
	git_in "$r" commit -q -m "linux-source-$VER $srcver"

cp "$REPO/gpio-virtio.c" "$r/drivers/gpio/gpio-virtio.c"
# Replace the help text of GPIO_VIRTIO, and nothing else, in the tree's
# Kconfig: from the line after "help" to the last line before the next
# entry that is not blank and not indented.
awk -v helpfile="$tmp/help" '
	function flush(  l) {
		while ((getline l < helpfile) > 0)
			print l
		close(helpfile)
	}
	help == 1 {
		if ($0 ~ /^[ \t]*$/ || $0 ~ /^\t/)
			next
		flush(); print ""; help = 2
	}
	/^config / { inside = ($2 == "GPIO_VIRTIO") }
	inside && help == 0 && /^[[:space:]]+help[[:space:]]*$/ { print; help = 1; next }
	{ print }
	END { if (help == 1) flush() }
' "$KSRC/drivers/gpio/Kconfig" >"$r/drivers/gpio/Kconfig"
[ "$(grep -c '^config ' "$r/drivers/gpio/Kconfig")" = "$(grep -c '^config ' "$KSRC/drivers/gpio/Kconfig")" ] ||
	die "the Kconfig help text replacement lost an entry"
git_in "$r" diff --quiet -- drivers/gpio/Kconfig &&
	log "note: drivers/gpio/Kconfig already has our help text"

# The author date: the driver's last commit here (the patch is the same
# for the same driver), else now.
date=$(git -C "$REPO" log -1 --format=%aI -- gpio-virtio.c Kconfig 2>/dev/null || true)
date=${date:-$(date -u +%Y-%m-%dT%H:%M:%SZ)}
cat >"$tmp/msg" <<'MSG'
gpio: virtio: bounded waits, batched access, PM and a hardened probe

Rework the virtio GPIO driver so that a device that misbehaves, stops
answering or keeps its state across a reset cannot hang or crash the
guest, and so that consumers of many lines pay one round trip instead
of one per line. What changes for users:

- Waits for the device are bounded and killable. A request used to wait
  for its reply forever and uninterruptibly: a back end that never
  answers hung the caller for good. Every wait for a reply or for ring
  space now ends after timeout_ms, a new module parameter (default 1000,
  0 for no limit, writable at run time), with -ETIMEDOUT, or with -EINTR
  when the waiter is killed. A reply that comes late lands in buffers
  the driver has kept for it. No timer is armed per request: one timer
  per device ends the waits whose deadline passed.

- get_multiple() and set_multiple() are implemented: every line's
  request is in flight before one notification of the device, instead
  of gpiolib asking line after line. In a QEMU (TCG) guest, reading or
  writing 32 lines at once became about 17 to 20 times faster; a single
  line costs what it did.

- The irq_chip is immutable (IRQCHIP_IMMUTABLE) and named after the GPIO
  chip; gpiolib no longer warns "not an immutable chip".

- Trigger types the device refuses are reported to the consumer. Errors
  of SET_IRQ_TYPE used to be ignored, so request_irq() succeeded for an
  interrupt that never fires. The driver learns which types a line
  accepts when its interrupt is first requested, and irq_set_type()
  fails with -EINVAL for the others (gpiomon reports the error).

- System sleep: freeze and restore are implemented. Restore sets the
  virtqueues up again and gives the device back the lines' directions
  and output values and the requested trigger types.

- Probe is hardened: the configuration space is not trusted. A device
  with no lines is refused, sizes are checked (a huge gpio_names_size
  used to make the probe oops), and the names block is read into a
  buffer of its exact size and validated: one NUL-terminated, printable
  and unique name per line. A bad names block costs the line names
  (with one warning), never the chip.

- Teardown before reset: vhost-user back ends keep their line state
  across a reset of the device, so remove and freeze first set the
  trigger types the driver gave back to NONE (remove also gives back
  the directions of held lines), then reset the device and reclaim
  every buffer; requests still in flight fail with -ENODEV.

- The chip label is gpio-virtio.<transport device>, for example
  gpio-virtio.0000:00:03.0, instead of the virtio device's name
  (virtio1), whose number depends on the probe order: it names where
  the device sits and survives an unbind or a module reload.

- With CONFIG_DEBUG_FS, each device has per-line counters of requests,
  errors, timeouts and delivered interrupts in
  /sys/kernel/debug/gpio-virtio/<virtio device>/stats.

Tested in QEMU 10 guests (vhost-user-gpio-pci, TCG) against a vhost-user
device simulator, on Linux 6.1, 6.12 and a 7.2 kernel with KASAN,
lockdep and kmemleak.

Signed-off-by: Your Name <you@example.org>
MSG
git_in "$r" add drivers
GIT_AUTHOR_DATE=$date GIT_COMMITTER_DATE=$date git_in "$r" commit -q -F "$tmp/msg"

rm -f "$OUT"/0001-*.patch
name=$(git_in "$r" format-patch -1 --zero-commit --no-signature --filename-max-length=100 -o "$OUT" HEAD)
case "$name" in /*) ;; *) name=$r/$name ;; esac
[ -s "$name" ] || die "git format-patch wrote no patch"

# It must apply to the tree it was made against (read only: --check).
if ! err=$(git_in "$KSRC" apply --check "$name" 2>&1); then
	echo "$err" >&2
	die "$name does not apply to $KSRC (git apply --check)"
fi
echo "$KSRC linux-source-$VER $srcver" >"$OUT/against"
if [ $QUIET = 0 ]; then
	cat "$name"
	log "against linux-source-$VER $srcver ($KSRC): git apply --check passes"
	git_in "$r" diff --stat HEAD~1 HEAD | tail -n 1 | sed "s|^ *|$(basename "$0"): |" >&2
fi
echo "$name"
