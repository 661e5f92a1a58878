#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian release as a newcomer's machine, on any Debian host: a fresh
# `debootstrap --variant=minbase RELEASE` root (git, make and sudo added, the
# release's usual apt sources: RELEASE, -updates, -security; nothing else),
# a copy of this tree in it, and there, as the README says:
#   - `make demo` passes, with the release's own 6.12 kernel as the guest
#     (6.12.N+debNN-amd64), the release's own QEMU, and no entry of another
#     release in the root's apt sources afterwards;
#   - tests/packaging.sh passes: DKMS builds and installs the module, and
#     the gpio-virtio-dkms .deb is built and installed, for the release's own
#     headers (dkms status: installed for 6.12.N+debNN-amd64);
#   - neither installs a kernel image or a headers package, in the root or
#     on the host (dpkg -l 'linux-image*' and 'linux-headers*' unchanged).
# Prints "ok - ..." / "not ok - ..." lines (tests/run.sh numbers them) and
# "# ..." notes with the time of each step; exits non-zero when one failed.
#
# Usage: tests/release-root.sh [RELEASE]     (default trixie; as root)
#
# Cached under $CACHE/roots/ (kept between runs where the machine keeps
# .cache/): the freshly bootstrapped root as a tarball (made again after a
# week, or with ROOT_FRESH=1) and the .debs the root's apt downloads (its
# /var/cache/apt/archives, bind-mounted). Every run unpacks a new root from
# the tarball: the installs in it are a newcomer's each time. proc, sys and
# dev are bound into the root and unmounted on every exit path, processes
# left in the root are ended first.
# Environment: ROOT_DEMO_TIMEOUT=600 (make demo's boot limit in the root;
# it may share the CPUs with make test's guests), ROOT_KEEP=1 (keep the
# root after the run, for a look inside), ROOT_MAKE_TEST="VAR=VALUE ..."
# (also run make test with these variables in the root, its results
# relayed: e.g. "KERNELS='6.12-arm64 6.12-deb12' SUITES=basic DRIVER=ours
# PACKAGING=0" boots the release's arm64 kernel and the other release's
# 6.12 built with the root's compiler; not in CI, for time).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
. "$top/scripts/lib.sh"

REL=${1:-trixie}
NUM=$(release_num "$REL") || die "unknown Debian release '$REL'"
[ "$(id -u)" = 0 ] || { echo "not ok - [$REL root] runs as root (debootstrap, chroot, mount)"; exit 1; }
host_release_ok

D=$CACHE/roots
W=$D/$REL
R=$W/root
BASE=$D/$REL-base.tar
ARCHIVES=$D/$REL-archives
TAG="[Debian $NUM root]"
failed=0
t_start=$SECONDS
mkdir -p "$W" "$ARCHIVES/partial"
# One run at a time uses $W (a second one waits).
exec 8> "$D/$REL.lock"
flock -w 3600 8 || { echo "not ok - $TAG no other run holds $D/$REL.lock (waited 1 h)"; exit 1; }

ok() { echo "ok - $TAG $*"; }
notok() {
	local d=$1 arg line
	shift
	echo "not ok - $TAG $d"
	for arg in "$@"; do
		while IFS= read -r line; do
			[ -n "$line" ] && echo "#   $line"
		done <<< "$arg"
	done
	failed=$((failed + 1))
	return 0
}
# unchanged DESCRIPTION BEFORE AFTER: ok when the two package lists agree,
# else not ok with the lines that differ ("-" gone, "+" new)
unchanged() {
	if [ "$3" = "$2" ]; then
		ok "$1"
	else
		notok "$1" "$(diff <(echo "$2" | sed '/^$/d') <(echo "$3" | sed '/^$/d') |
			sed -n 's/^< /- /p; s/^> /+ /p')"
	fi
}
note() { echo "# $TAG $*"; }

# kernel_pkgs [ROOT]: the kernel images and headers packages dpkg knows
# (any state), one "STATE NAME VERSION" line each
kernel_pkgs() {
	dpkg-query ${1:+--admindir="$1/var/lib/dpkg"} -W \
		-f='${db:Status-Abbrev} ${Package} ${Version}\n' 'linux-image*' 'linux-headers*' \
		2>/dev/null | sort
}

# --- cleanup on every exit path ---------------------------------------------
MOUNTS=()
in_root_pids() {
	local p r
	for p in /proc/[0-9]*; do
		r=$(readlink "$p/root" 2>/dev/null) || continue
		[ "$r" = "$R" ] && echo "${p#/proc/}"
	done
}
cleanup() {
	local i pids
	set +e
	pids=$(in_root_pids)
	if [ -n "$pids" ]; then
		# shellcheck disable=SC2086
		kill $pids 2>/dev/null
		sleep 1
		pids=$(in_root_pids)
		# shellcheck disable=SC2086
		[ -z "$pids" ] || kill -9 $pids 2>/dev/null
	fi
	for ((i = ${#MOUNTS[@]} - 1; i >= 0; i--)); do
		umount -R "${MOUNTS[$i]}" 2>/dev/null || umount -R -l "${MOUNTS[$i]}" 2>/dev/null
	done
	MOUNTS=()
	# The logs of the runs inside, kept beside the root's own
	mkdir -p "$W/logs"
	cp -r "$R/src/gpio-virtio/.cache/packaging" "$R/src/gpio-virtio/.cache/demo" \
		"$R/src/gpio-virtio/.cache/runs-root" "$W/logs/" 2>/dev/null
	if grep -q " $R/" /proc/mounts; then
		echo "# $TAG warning: mounts left under $R:" >&2
		grep " $R/" /proc/mounts >&2
	elif [ "${ROOT_KEEP:-0}" != 1 ]; then
		rm -rf "$R"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

host_before=$(kernel_pkgs)

# --- the base root (cached) -------------------------------------------------
if ! command -v debootstrap >/dev/null; then
	$APT_GET install -y -q --no-install-recommends debootstrap >/dev/null ||
		{ notok "debootstrap is installed (apt-get install debootstrap)"; exit 1; }
fi
# The release's usual entries, on the machine's own Debian mirrors.
SOURCES=$(aptx_sources "$REL" | grep -v -- "-backports ")
MIRROR=$(echo "$SOURCES" | awk -v r="$REL" '$4 == r { print $3; exit }')
[ -n "$MIRROR" ] || { notok "the machine's apt names a Debian mirror"; exit 1; }
key="debootstrap $(dpkg-query -W -f='${Version}' debootstrap) $REL minbase git,make,sudo $MIRROR"
if [ "${ROOT_FRESH:-0}" = 1 ] || [ ! -s "$BASE" ] || [ "$(cat "$BASE.key" 2>/dev/null)" != "$key" ] ||
	[ -n "$(find "$BASE" -mtime +7)" ]; then
	t0=$SECONDS
	rm -rf "$W/base" "$BASE" "$BASE.key"
	if ! debootstrap --variant=minbase --include=git,make,sudo --cache-dir="$ARCHIVES" \
		"$REL" "$W/base" "$MIRROR" > "$W/debootstrap.log" 2>&1; then
		notok "debootstrap --variant=minbase $REL" "$(tail -n 5 "$W/debootstrap.log")"
		exit 1
	fi
	# Debian's usual sources in deb822 form, as the installer writes them.
	rm -f "$W/base/etc/apt/sources.list"
	echo "$SOURCES" | awk '
		{ uri = $3; suites[uri] = suites[uri] (suites[uri] == "" ? "" : " ") $4 }
		END {
			for (u in suites) {
				printf "Types: deb\nURIs: %s\nSuites: %s\nComponents: main\n", u, suites[u]
				printf "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\n"
			}
		}' > "$W/base/etc/apt/sources.list.d/debian.sources"
	rm -rf "$W/base/var/cache/apt/archives"/*.deb "$W/base/var/lib/apt/lists"/*_Packages*
	tar -C "$W/base" -cf "$BASE.tmp" . && mv "$BASE.tmp" "$BASE" && echo "$key" > "$BASE.key"
	rm -rf "$W/base"
	note "base root made by debootstrap in $((SECONDS - t0)) s ($(du -h "$BASE" | cut -f1) tarball)"
else
	note "base root from the cache ($BASE, $(stat -c %y "$BASE" | cut -d. -f1))"
fi

# --- a fresh root from it, with this tree -----------------------------------
if [ -e "$R" ]; then
	t0=$SECONDS
	rm -rf "$R"
	note "the previous root (ROOT_KEEP=1, or an interrupted run) removed in $((SECONDS - t0)) s"
fi
t0=$SECONDS
mkdir -p "$R"
tar -C "$R" -xf "$BASE" || { notok "unpack $BASE"; exit 1; }
mkdir -p "$R/src/gpio-virtio"
rsync -a --exclude=.git --exclude=/.cache --exclude-from="$top/.gitignore" \
	"$top/" "$R/src/gpio-virtio/" || { notok "copy the tree into the root"; exit 1; }
cp -L /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null
root_mount() {	# root_mount MOUNT-ARGS... TARGET
	local target=${*: -1}
	mkdir -p "$target"
	mount "$@" || return 1
	MOUNTS+=("$target")
}
root_mount -t proc proc "$R/proc" &&
	root_mount --rbind /sys "$R/sys" && mount --make-rslave "$R/sys" &&
	root_mount --rbind /dev "$R/dev" && mount --make-rslave "$R/dev" &&
	root_mount --bind "$ARCHIVES" "$R/var/cache/apt/archives" ||
	{ notok "bind proc, sys, dev and the archive cache into the root"; exit 1; }
note "fresh root ready in $((SECONDS - t0)) s"

# in_root COMMAND: run a shell command in the root, in the tree, as a login
# of root would (a clean environment)
in_root() {
	chroot "$R" /usr/bin/env -i HOME=/root LANG=C.UTF-8 TERM=dumb \
		PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		DEMO_TIMEOUT="${ROOT_DEMO_TIMEOUT:-600}" \
		/bin/bash -c "cd /src/gpio-virtio && $1"
}

root_before=$(kernel_pkgs "$R")

# --- make demo ----------------------------------------------------------------
t0=$SECONDS
in_root 'make demo' > "$W/demo.log" 2>&1
rc=$?
demo_s=$((SECONDS - t0))
# the kernel the demo booted
krel=$(sed -n 's/^\[demo\] booting \([^ ]*\) under QEMU.*/\1/p' "$W/demo.log" | tail -n 1)
if [ $rc = 0 ] && grep -q '^\[demo\] done in' "$W/demo.log"; then
	ok "make demo passes ($demo_s s, the installs included; guest $krel)"
else
	notok "make demo passes (exit $rc after $demo_s s)" "$(tail -n 8 "$W/demo.log")" \
		"logs: $W/demo.log, $W/logs/demo/"
fi
note "install-deps: $(grep -m 1 '^install-deps: Debian' "$W/demo.log")"
if [[ "$krel" =~ ^6\.12\.[0-9]+\+deb$NUM(\.[0-9]+)?-amd64$ ]]; then
	ok "the demo's guest is Debian $NUM's own 6.12 ($krel)"
else
	notok "the demo's guest is Debian $NUM's own 6.12" "got: '${krel:-no kernel}'"
fi
qv=$(in_root "dpkg-query -W -f='\${Version}' qemu-system-x86" 2>/dev/null)
qorigin=$(in_root 'apt-cache policy qemu-system-x86' 2>/dev/null |
	awk '/^ \*\*\* / { inst = 1; next } inst && /^ +[0-9]+ http/ { print $3; exit }')
if [ -n "$qv" ] && [[ "$qorigin" == "$REL"* ]] && [[ "$qorigin" != *-backports* ]]; then
	ok "QEMU is Debian $NUM's own ($qv from $qorigin)"
else
	notok "QEMU is Debian $NUM's own" "qemu-system-x86 '$qv' from '${qorigin:-unknown}'"
fi
others=$(in_root "grep -rlE 'bookworm|trixie|forky|sid|unstable' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null |
	xargs -r grep -hE 'bookworm|trixie|forky|sid|unstable' | grep -vw $REL; true" 2>/dev/null)
suites=$(in_root "apt-get indextargets --format '\$(RELEASE)' 'Created-By: Packages' | sort -u | tr '\n' ' '" 2>/dev/null)
if [ -z "$others" ] && [ -n "$suites" ] &&
	! echo "$suites" | tr ' ' '\n' | grep -v '^$' | grep -qv "^$REL\(-\|$\)"; then
	ok "the root's apt sources name Debian $NUM only ($suites)"
else
	notok "the root's apt sources name Debian $NUM only" "suites: $suites" "$others"
fi
root_mid=$(kernel_pkgs "$R")
unchanged "make demo installs no kernel image or headers package in the root" \
	"$root_before" "$root_mid"

# --- DKMS and the .deb ----------------------------------------------------------
t0=$SECONDS
in_root 'tests/packaging.sh' > "$W/packaging.log" 2>&1
rc=$?
pkg_s=$((SECONDS - t0))
while IFS= read -r line; do
	case "$line" in
	"ok - "*) ok "packaging: ${line#ok - }" ;;
	"not ok - "*) notok "packaging: ${line#not ok - }" ;;
	*) echo "#   $line" ;;
	esac
done < "$W/packaging.log"
if [ $rc = 0 ] && grep -qE "^ok - dkms status: .* installed for.* 6\\.12\\.[0-9]+\\+deb$NUM" "$W/packaging.log"; then
	ok "DKMS installed the .deb's module for Debian $NUM's 6.12 headers ($pkg_s s)"
else
	notok "DKMS installed the .deb's module for Debian $NUM's 6.12 headers (exit $rc, $pkg_s s)" \
		"logs: $W/packaging.log, $W/logs/packaging/"
fi
root_after=$(kernel_pkgs "$R")
unchanged "the packaging tests install no kernel image or headers package in the root" \
	"$root_mid" "$root_after"

# --- make test in the root (ROOT_MAKE_TEST) -----------------------------------
if [ -n "${ROOT_MAKE_TEST:-}" ]; then
	t0=$SECONDS
	in_root "env $ROOT_MAKE_TEST RUN_TAG=root make test" > "$W/make-test.log" 2>&1
	rc=$?
	while IFS= read -r line; do
		if [[ "$line" =~ ^ok\ [0-9]+\ -\ (.*)$ ]]; then
			ok "make test: ${BASH_REMATCH[1]}"
		elif [[ "$line" =~ ^not\ ok\ [0-9]+\ -\ (.*)$ ]]; then
			if [[ "${BASH_REMATCH[1]}" == *"# TODO"* ]]; then
				echo "not ok - $TAG make test: ${BASH_REMATCH[1]}"
			else
				notok "make test: ${BASH_REMATCH[1]}"
			fi
		elif [[ "$line" == "#"* ]]; then
			echo "$line"
		fi
	done < "$W/make-test.log"
	[ $rc = 0 ] || notok "make test $ROOT_MAKE_TEST passes in the root (exit $rc)" "log: $W/make-test.log"
	note "make test $ROOT_MAKE_TEST: $((SECONDS - t0)) s"
	unchanged "make test installs no kernel image or headers package in the root" \
		"$root_after" "$(kernel_pkgs "$R")"
fi

unchanged "the host's kernel images and headers packages are unchanged" \
	"$host_before" "$(kernel_pkgs)"
note "times: make demo $demo_s s, packaging $pkg_s s, all $((SECONDS - t_start)) s"
[ "$failed" = 0 ]
