#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the scripts in this directory: source it, do not run it.
#   REPO   the repository root (found from this file's location)
#   CACHE  the cache root ($CACHE if set, else $REPO/.cache)
#   SUDO   empty for root, else "sudo"
#   APT_GET  apt-get that waits for the dpkg lock instead of failing

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${CACHE:-$REPO/.cache}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
APT_GET="$SUDO env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600"

# log MSG...: progress on stderr, prefixed with the calling script's name.
log() {
	echo "$(basename "$0"): $*" >&2
}

# die MSG...: print MSG as an error and exit non-zero.
die() {
	echo "$(basename "$0"): error: $*" >&2
	exit 1
}

# apt_candidate PKG [APT-OPTIONS...]: print PKG's candidate version, or
# nothing when apt knows no installable version of it.
apt_candidate() {
	local pkg=$1

	shift
	apt-cache "$@" policy "$pkg" 2>/dev/null |
		awk '$1 == "Candidate:" && $2 != "(none)" { print $2 }'
}

# env_files_ok FILE [nosrc]: true when the kernel env FILE exists and every
# path it names (KIMAGE, KMODROOT, KDIR, KSRC) exists; with nosrc, an
# empty KSRC (a kernel fetched without its source) is fine too.
env_files_ok() {
	local f=$1 nosrc=${2:-}

	[ -s "$f" ] || return 1
	(
		# shellcheck disable=SC1090
		. "$f"
		[ -f "$KIMAGE" ] && [ -d "$KMODROOT" ] && [ -d "$KDIR" ] &&
			{ [ -d "$KSRC" ] || { [ "$nosrc" = nosrc ] && [ -z "$KSRC" ]; }; }
	)
}

# write_env FILE VAR=VALUE...: write shell assignments to FILE atomically.
write_env() {
	local f=$1 kv

	shift
	mkdir -p "$(dirname "$f")"
	for kv in "$@"; do
		printf '%s=%q\n' "${kv%%=*}" "${kv#*=}"
	done >"$f.tmp"
	mv -f "$f.tmp" "$f"
}

# extract_source TARBALL DEST VERSION: unpack a linux-source TARBALL (one
# top-level directory) into DEST, once per VERSION; print the tree's path.
extract_source() {
	local tarball=$1 dest=$2 version=$3 top start

	top=$(tar -tJf "$tarball" 2>/dev/null | head -1) || true
	top=${top%%/*}
	[ -n "$top" ] || die "cannot read $tarball"
	if [ -d "$dest/$top" ] && [ "$(cat "$dest/.version" 2>/dev/null)" = "$version" ]; then
		echo "$dest/$top"
		return
	fi
	log "extracting $tarball ($version) into $dest"
	start=$SECONDS
	rm -rf "$dest" "$dest.tmp"
	mkdir -p "$dest.tmp"
	tar -xJf "$tarball" -C "$dest.tmp"
	mv "$dest.tmp" "$dest"
	echo "$version" >"$dest/.version"
	log "extracted in $((SECONDS - start)) s"
	echo "$dest/$top"
}

# The Debian releases the scripts know, by codename and number: a kernel
# release string carries the number (6.12.N+deb13), a kernel name in
# KERNELS may too (6.12-deb13).
# HOST_RELEASE: the machine's own release (VERSION_CODENAME of
# /etc/os-release); set it only to test these scripts.
HOST_RELEASE=${HOST_RELEASE:-$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")}
HOST_ARCH=$(dpkg --print-architecture 2>/dev/null || echo amd64)

# release_num CODENAME: the release's number (bookworm 12, trixie 13, ...)
release_num() {
	case $1 in
	bookworm) echo 12 ;;
	trixie) echo 13 ;;
	forky) echo 14 ;;
	*) return 1 ;;
	esac
}

# release_name NUMBER: the codename of Debian NUMBER
release_name() {
	case $1 in
	12) echo bookworm ;;
	13) echo trixie ;;
	14) echo forky ;;
	*) return 1 ;;
	esac
}

# other_release [CODENAME]: the other release whose guest kernels make
# test also boots (Debian 12 and 13 for each other; a later release: 13)
other_release() {
	case ${1:-$HOST_RELEASE} in
	trixie) echo bookworm ;;
	*) echo trixie ;;
	esac
}

# host_release_ok: dies unless the machine is a Debian release known here
host_release_ok() {
	release_num "$HOST_RELEASE" >/dev/null ||
		die "this machine's release '${HOST_RELEASE:-unknown}' (/etc/os-release) is not one the scripts know (Debian 12 bookworm, 13 trixie)"
}

# Private apt states, $CACHE/apt-REL-ARCH: the Debian sources the machine's
# apt knows, each suite renamed from the machine's release to REL
# (trixie-security for bookworm-security, same mirrors), with ARCH as the
# only architecture and no package status. Packages of another release or
# architecture are fetched through them with apt-get download only and
# unpacked under $CACHE; the machine's sources, dpkg architectures and own
# apt state are never touched.
#   aptx_update REL ARCH   brings REL/ARCH's lists up to date when they are
#                          older than an hour (versions are resolved when a
#                          run starts, like the machine's)
#   aptx_opts REL ARCH     sets APTX (array): the apt options of that state
#   aptx REL ARCH get|cache ARGS...   apt-get or apt-cache on it
aptx_opts() {
	local d=$CACHE/apt-$1-$2
	APTX=(-o "Dir::State=$d/state" -o "Dir::State::Lists=$d/lists"
		-o Dir::State::status=/dev/null -o "Dir::Cache=$d/cache"
		-o "Dir::Etc::SourceList=$d/sources.list" -o Dir::Etc::SourceParts=-
		-o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$d/preferences.d"
		-o "APT::Architecture=$2" -o "APT::Architectures=$2" -o APT::Default-Release=
		-o Acquire::Languages=none -o APT::Sandbox::User=root)
}

# aptx_sources REL: the machine's Debian entries (any format, any mirror;
# other vendors' repositories are left out) for the machine's release,
# renamed to REL, as sources.list lines
aptx_sources() {
	local rel=$1
	host_release_ok
	apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(ORIGIN)' 		'Created-By: Packages' 2>/dev/null |
		awk -v host="$HOST_RELEASE" -v rel="$rel" '
			$4 ~ /^Debian/ && ($2 == host || index($2, host "-") == 1) && $3 == "main" {
				print "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] " \
					$1 " " rel substr($2, length(host) + 1) " " $3
			}' | sort -u
}

aptx_update() {
	local rel=$1 arch=$2 d=$CACHE/apt-$1-$2
	release_num "$rel" >/dev/null || die "unknown Debian release '$rel'"
	aptx_opts "$rel" "$arch"
	mkdir -p "$d/state" "$d/lists/partial" "$d/cache/archives/partial" "$d/preferences.d"
	(
		flock 7
		aptx_sources "$rel" >"$d/sources.list.tmp"
		[ -s "$d/sources.list.tmp" ] ||
			die "the machine's apt has no Debian $HOST_RELEASE entry to take the $rel lists from"
		if [ -f "$d/updated" ] && [ -z "$(find "$d/updated" -mmin +60)" ] &&
			cmp -s "$d/sources.list.tmp" "$d/sources.list"; then
			rm -f "$d/sources.list.tmp"
			exit 0
		fi
		mv "$d/sources.list.tmp" "$d/sources.list"
		apt-get "${APTX[@]}" -q update >"$d/update.log" 2>&1 ||
			{ cat "$d/update.log" >&2; die "apt-get update of the $rel $arch lists failed"; }
		touch "$d/updated"
	) 7>"$d.lock" || exit 1
}

aptx() {
	local rel=$1 arch=$2 tool=$3
	shift 3
	aptx_opts "$rel" "$arch"
	"apt-$tool" "${APTX[@]}" "$@"
}

# apt_of REL ARCH: sets APTOPT (array) to the apt options of REL's ARCH
# packages: none for the machine's own release and architecture (its own
# lists), else a private state (brought up to date first)
apt_of() {
	APTOPT=()
	if [ "$1" != "$HOST_RELEASE" ] || [ "$2" != "$HOST_ARCH" ]; then
		aptx_update "$1" "$2"
		aptx_opts "$1" "$2"
		APTOPT=("${APTX[@]}")
	fi
}

# load_kernel_env VER: source $CACHE/kernels/VER.env (from fetch-kernel.sh)
# and check that its KDIR can build external modules.
load_kernel_env() {
	ENVF=$CACHE/kernels/$1.env
	[ -f "$ENVF" ] || die "$ENVF missing: run scripts/fetch-kernel.sh $1 first"
	# shellcheck disable=SC1090
	. "$ENVF"
	[ -f "$KDIR/Makefile" ] || die "KDIR $KDIR has no Makefile"
	# The make arguments of a cross build (arm64), as an array.
	read -r -a KMAKE <<<"${KMAKEARGS:-}"
}
