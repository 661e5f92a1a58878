#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packaging tests, as root on the host: DKMS add/build/install/remove against
# Debian's 6.1 and 6.12 headers (each built module is kept as
# .cache/build/VER/dkms/gpio-virtio.ko for the autoload boot test), then the
# gpio-virtio-dkms .deb: dpkg-buildpackage in a copy of the tree, dpkg -i,
# dkms status, dpkg --purge. Prints "ok - ..." / "not ok - ..." lines (the
# harness numbers them) and exits non-zero when one failed. Leaves no DKMS
# registration, /usr/src copy or package behind, so it can run again.
#
# Environment: PKG_KERNELS="6.1 6.12" (which headers to build against).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

PKG_KERNELS=${PKG_KERNELS:-6.1 6.12}
NAME=gpio-virtio
DEB=gpio-virtio-dkms
VERSION=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"$/\1/p' "$top/dkms.conf")
SRC=/usr/src/$NAME-$VERSION
LOGS=$CACHE/packaging
failed=0

ok() { echo "ok - $*"; }
notok() {
	local d=$1 line
	shift
	echo "not ok - $d"
	for line in "$@"; do
		[ -n "$line" ] && echo "#   $line"
	done
	failed=$((failed + 1))
	return 0
}
# t DESCRIPTION LOG COMMAND...: run COMMAND into LOG; ok or not ok (LOG's tail)
t() {
	local d=$1 log=$2
	shift 2
	if "$@" > "$log" 2>&1; then
		ok "$d"
		return 0
	fi
	notok "$d" "$(tail -n 5 "$log")"
	return 1
}

# Remove whatever an earlier (maybe interrupted) run left behind.
cleanup() {
	if dpkg-query -W -f='${db:Status-Status}' "$DEB" 2>/dev/null | grep -qv '^not-installed$'; then
		DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y "$DEB" \
			> "$LOGS/purge-leftover.log" 2>&1
	fi
	if [ -d "/var/lib/dkms/$NAME/$VERSION" ]; then
		dkms remove -m "$NAME" -v "$VERSION" --all > "$LOGS/remove-leftover.log" 2>&1
	fi
	rm -rf "$SRC"
}

if [ "$(id -u)" != 0 ]; then
	echo "not ok - packaging tests run as root (dkms, dpkg)"
	exit 1
fi
for tool in dkms dpkg-buildpackage dh_dkms rsync; do
	if ! command -v "$tool" >/dev/null; then
		echo "not ok - $tool is installed (run scripts/install-deps.sh)"
		exit 1
	fi
done
mkdir -p "$LOGS"
rm -f "$LOGS"/*.log
cleanup

chver=$(cd "$top" && dpkg-parsechangelog -S Version 2>/dev/null)
if [ -n "$VERSION" ] && [ "$chver" = "$VERSION" ]; then
	ok "dkms.conf and debian/changelog agree on the version ($VERSION)"
else
	notok "dkms.conf and debian/changelog agree on the version" \
		"dkms.conf: '$VERSION', debian/changelog: '$chver'"
fi

# --- DKMS from the source tree -------------------------------------------
mkdir -p "$SRC"
# shellcheck disable=SC2046
(cd "$top" && cp -r $(make -s -f debian/rules dkms-files) "$SRC/")
if t "dkms add $NAME/$VERSION" "$LOGS/dkms-add.log" dkms add -m "$NAME" -v "$VERSION"; then
	for k in $PKG_KERNELS; do
		if ! "$top/scripts/fetch-kernel.sh" "$k" > "$LOGS/fetch-$k.log" 2>&1; then
			notok "[$k] kernel headers available" "$(tail -n 5 "$LOGS/fetch-$k.log")"
			continue
		fi
		# shellcheck disable=SC1090
		rel=$(. "$CACHE/kernels/$k.env" && echo "$KRELEASE")
		t "[$k] dkms build for $rel" "$LOGS/dkms-build-$k.log" \
			dkms build -m "$NAME" -v "$VERSION" -k "$rel" ||
			{ cat "/var/lib/dkms/$NAME/$VERSION/build/make.log" >> "$LOGS/dkms-build-$k.log" 2>/dev/null
			  continue; }
		t "[$k] dkms install for $rel" "$LOGS/dkms-install-$k.log" \
			dkms install -m "$NAME" -v "$VERSION" -k "$rel" || continue
		ko=$(find "/lib/modules/$rel/updates/dkms" -name "$NAME.ko*" 2>/dev/null | head -n 1)
		if [ -n "$ko" ] && modinfo "$ko" 2>/dev/null | grep -q '^alias: *virtio:d00000029v'; then
			ok "[$k] the module is in updates/dkms with the virtio modalias"
		else
			notok "[$k] the module is in updates/dkms with the virtio modalias" \
				"found: '${ko:-nothing}'"
			continue
		fi
		if modprobe -n -v -S "$rel" "$NAME" 2>&1 | grep -q "updates/dkms/$NAME.ko"; then
			ok "[$k] depmod ran: modprobe resolves $NAME to updates/dkms"
		else
			notok "[$k] depmod ran: modprobe resolves $NAME to updates/dkms" \
				"$(modprobe -n -v -S "$rel" "$NAME" 2>&1 | tail -n 2)"
		fi
		out=$CACHE/build/$k/dkms
		mkdir -p "$out"
		case "$ko" in
		*.xz) xz -dc "$ko" > "$out/$NAME.ko" ;;
		*.zst) zstd -qdc "$ko" > "$out/$NAME.ko" ;;
		*.gz) gzip -dc "$ko" > "$out/$NAME.ko" ;;
		*) cp "$ko" "$out/$NAME.ko" ;;
		esac
	done
	# BUILD_EXCLUSIVE_CONFIG: a kernel without gpiolib is skipped (status 77).
	fake=$(mktemp -d)
	for k in $PKG_KERNELS; do
		[ -f "$CACHE/kernels/$k.env" ] || continue
		# shellcheck disable=SC1090
		kd=$(. "$CACHE/kernels/$k.env" && echo "$KDIR")
		grep -v '^CONFIG_GPIOLIB=' "$kd/.config" > "$fake/.config" && break
	done
	touch "$fake/Makefile"
	dkms build -m "$NAME" -v "$VERSION" -k 0.0.0-no-gpiolib --kernelsourcedir "$fake" \
		> "$LOGS/dkms-exclusive.log" 2>&1
	rc=$?
	if [ $rc = 77 ] && grep -q BUILD_EXCLUSIVE "$LOGS/dkms-exclusive.log"; then
		ok "dkms skips a kernel without CONFIG_GPIOLIB (BUILD_EXCLUSIVE_CONFIG)"
	else
		notok "dkms skips a kernel without CONFIG_GPIOLIB (BUILD_EXCLUSIVE_CONFIG)" \
			"dkms build exited $rc" "$(tail -n 3 "$LOGS/dkms-exclusive.log")"
	fi
	rm -rf "$fake"
	t "dkms remove $NAME/$VERSION --all" "$LOGS/dkms-remove.log" \
		dkms remove -m "$NAME" -v "$VERSION" --all
	left=$(find /lib/modules/*/updates/dkms -name "$NAME.ko*" 2>/dev/null)
	if [ -z "$left" ] && [ ! -d "/var/lib/dkms/$NAME" ]; then
		ok "dkms remove leaves no module and no registration"
	else
		notok "dkms remove leaves no module and no registration" "$left"
	fi
fi
rm -rf "$SRC"

# --- the Debian package ----------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
tree=$tmp/$NAME-$VERSION
rsync -a --exclude=.git --exclude-from="$top/.gitignore" "$top/" "$tree/"
if t "dpkg-buildpackage -us -uc -b builds $DEB" "$LOGS/dpkg-buildpackage.log" \
	bash -c "cd '$tree' && dpkg-buildpackage -us -uc -b"; then
	deb=$tmp/${DEB}_${VERSION}_all.deb
	list=$(dpkg-deb -c "$deb" 2>&1)
	if echo "$list" | grep -q "usr/src/$NAME-$VERSION/dkms.conf" &&
		echo "$list" | grep -q "usr/src/$NAME-$VERSION/$NAME.c"; then
		ok "the .deb holds the sources and dkms.conf under /usr/src/$NAME-$VERSION"
	else
		notok "the .deb holds the sources and dkms.conf under /usr/src/$NAME-$VERSION" \
			"$(ls "$tmp")"
	fi
	# apt-get installs the local file like dpkg -i, but waits for the dpkg lock.
	if t "dpkg -i $DEB (DKMS builds it for the installed headers)" "$LOGS/dpkg-i.log" \
		env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y --no-install-recommends "$deb"; then
		st=$(dkms status -m "$NAME" -v "$VERSION" 2>/dev/null)
		echo "$st" > "$LOGS/dkms-status.log"
		bad=
		for k in $PKG_KERNELS; do
			[ -f "$CACHE/kernels/$k.env" ] || continue
			# shellcheck disable=SC1090
			rel=$(. "$CACHE/kernels/$k.env" && echo "$KRELEASE")
			echo "$st" | grep -F "$NAME/$VERSION, $rel, " | grep -q ': installed' ||
				bad="$bad $rel"
		done
		if [ -z "$bad" ] && [ -n "$st" ]; then
			ok "dkms status: $NAME/$VERSION installed for every kernel with headers"
		else
			notok "dkms status: $NAME/$VERSION installed for every kernel with headers" \
				"missing:$bad" "$st"
		fi
	fi
	t "dpkg --purge $DEB" "$LOGS/dpkg-purge.log" \
		env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 purge -y "$DEB"
	left=$(dkms status -m "$NAME" 2>/dev/null; find /lib/modules/*/updates/dkms \
		-name "$NAME.ko*" 2>/dev/null; [ -e "$SRC" ] && echo "$SRC")
	if [ -z "$left" ]; then
		ok "purging the package removes the module, the registration and /usr/src"
	else
		notok "purging the package removes the module, the registration and /usr/src" "$left"
	fi
fi
cleanup
[ "$failed" = 0 ]
