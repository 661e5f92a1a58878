#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Packaging tests, as root on the host: DKMS add/build/install/remove
# against the machine's release's Debian headers (Debian 12: 6.1 and 6.12;
# Debian 13: 6.12), each built module kept as .cache/build/VER/dkms/
# gpio-virtio.ko for the autoload boot test; then the gpio-virtio-dkms
# .deb: dpkg-buildpackage in a copy of the tree, dpkg -i, DKMS building and
# installing the package's module for the same headers, dkms status,
# dpkg --purge. Prints "ok - ..." / "not ok - ..." lines (the harness
# numbers them) and exits non-zero when one failed. Leaves no DKMS
# registration, /usr/src copy or package behind, so it can run again.
#
# No kernel image and no headers package is installed: the headers are the
# ones scripts/fetch-kernel.sh unpacks under .cache/, and DKMS builds
# against them with --kernelsourcedir. DKMS installs only into an existing
# /lib/modules/<release>; where the release has none (its image is not
# installed), the test makes that directory for the install and removes it
# again with everything DKMS and depmod put there. Runs one at a time on a
# machine (a lock in /run/lock): they share the machine's DKMS tree.
#
# Environment: PKG_KERNELS (which headers to build against; default the
# machine's release's own series).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib-harness.sh"

PKG_KERNELS=${PKG_KERNELS:-$(. "$top/scripts/lib.sh" &&
	if [ "$HOST_RELEASE" = bookworm ]; then echo 6.1 6.12; else echo 6.12; fi)}
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
mkdir -p /run/lock
exec 7> /run/lock/gpio-virtio-packaging.lock
if ! flock -w 1800 7; then
	echo "not ok - no other packaging run holds /run/lock/gpio-virtio-packaging.lock (waited 30 min)"
	exit 1
fi
rm -f "$LOGS"/*.log
# /lib/modules/<release> directories made for dkms install carry a mark
# (MARK), so that this run or the next one, from any checkout, removes them
# with what DKMS and depmod put there, and nothing else. Such a directory
# gets an empty modules.dep, as an installed kernel has one: DKMS 3.2 runs
# depmod only for a release whose modules.dep exists (DKMS 3.0 always), and
# the check that depmod indexed the module holds for both.
MARK=.gpio-virtio-packaging-made
moddir_made() {
	local d=/lib/modules/$1
	if [ ! -d "$d" ]; then
		mkdir -p "$d" && touch "$d/$MARK" || return 1
	fi
	[ ! -e "$d/$MARK" ] || [ -e "$d/modules.dep" ] || : > "$d/modules.dep"
}
moddirs_remove() {
	local m d
	for m in /lib/modules/*/"$MARK"; do
		[ -e "$m" ] || continue
		d=$(dirname "$m")
		rm -rf "$d/updates/dkms"
		rm -f "$d"/modules.* "$m"
		find "$d" -depth -type d -empty -delete 2>/dev/null
	done
	return 0
}
trap moddirs_remove EXIT
moddirs_remove
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
		if ! "$top/scripts/fetch-kernel.sh" --no-source "$k" > "$LOGS/fetch-$k.log" 2>&1; then
			notok "[$k] kernel headers available" "$(tail -n 5 "$LOGS/fetch-$k.log")"
			continue
		fi
		# shellcheck disable=SC1090
		rel=$(. "$CACHE/kernels/$k.env" && echo "$KRELEASE")
		# shellcheck disable=SC1090
		kd=$(. "$CACHE/kernels/$k.env" && echo "$KDIR")
		t "[$k] dkms build for $rel (unpacked headers, --kernelsourcedir)" "$LOGS/dkms-build-$k.log" \
			dkms build -m "$NAME" -v "$VERSION" -k "$rel" --kernelsourcedir "$kd" ||
			{ cat "/var/lib/dkms/$NAME/$VERSION/build/make.log" >> "$LOGS/dkms-build-$k.log" 2>/dev/null
			  continue; }
		moddir_made "$rel"
		t "[$k] dkms install for $rel" "$LOGS/dkms-install-$k.log" \
			dkms install -m "$NAME" -v "$VERSION" -k "$rel" --kernelsourcedir "$kd" || continue
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
trap 'rm -rf "$tmp"; moddirs_remove' EXIT
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
	if t "dpkg -i $DEB (registers the sources with DKMS)" "$LOGS/dpkg-i.log" \
		env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 \
		install -y --no-install-recommends "$deb"; then
		# The package's module, built and installed by DKMS for each
		# kernel's headers as a user does for a release that is not
		# the running one (dkms install -k RELEASE).
		rels=
		for k in $PKG_KERNELS; do
			[ -f "$CACHE/kernels/$k.env" ] || continue
			# shellcheck disable=SC1090
			rel=$(. "$CACHE/kernels/$k.env" && echo "$KRELEASE")
			# shellcheck disable=SC1090
			kd=$(. "$CACHE/kernels/$k.env" && echo "$KDIR")
			rels="$rels $rel"
			moddir_made "$rel"
			t "[$k] dkms install of the package's $NAME/$VERSION for $rel" \
				"$LOGS/deb-dkms-install-$k.log" \
				dkms install -m "$NAME" -v "$VERSION" -k "$rel" --kernelsourcedir "$kd"
		done
		st=$(dkms status -m "$NAME" -v "$VERSION" 2>/dev/null)
		echo "$st" > "$LOGS/dkms-status.log"
		bad=
		for rel in $rels; do
			echo "$st" | grep -F "$NAME/$VERSION, $rel, " | grep -q ': installed' ||
				bad="$bad $rel"
		done
		if [ -z "$bad" ] && [ -n "$rels" ]; then
			ok "dkms status: $NAME/$VERSION installed for$rels"
		else
			notok "dkms status: $NAME/$VERSION installed for${rels:- (no kernel)}" \
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
moddirs_remove
[ "$failed" = 0 ]
