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

# env_files_ok FILE: true when the kernel env FILE exists and every path it
# names (KIMAGE, KMODROOT, KDIR, KSRC) exists.
env_files_ok() {
	local f=$1

	[ -s "$f" ] || return 1
	(
		# shellcheck disable=SC1090
		. "$f"
		[ -f "$KIMAGE" ] && [ -d "$KMODROOT" ] && [ -d "$KDIR" ] && [ -d "$KSRC" ]
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

# Private apt state for arm64 packages, $CACHE/apt-arm64: the Debian
# sources the machine's apt knows (bookworm, -updates, -security,
# -backports, the same mirrors), with arm64 as the only architecture. The
# machine's dpkg architectures and its own apt state are never touched.
# apt64 get|cache ARGS...: apt-get or apt-cache on that state. The package
# lists are brought up to date (apt-get update) when they are older than an
# hour, so versions are resolved when a run starts, like the machine's.
APT64_DIR=$CACHE/apt-arm64
apt64_opts() {
	APT64=(-o "Dir::State=$APT64_DIR/state" -o "Dir::State::Lists=$APT64_DIR/lists"
		-o Dir::State::status=/dev/null -o "Dir::Cache=$APT64_DIR/cache"
		-o "Dir::Etc::SourceList=$APT64_DIR/sources.list" -o Dir::Etc::SourceParts=-
		-o Dir::Etc::Preferences=/dev/null -o "Dir::Etc::PreferencesParts=$APT64_DIR/preferences.d"
		-o APT::Architecture=arm64 -o APT::Architectures=arm64
		-o Acquire::Languages=none -o APT::Sandbox::User=root)
}

apt64_update() {
	local stamp=$APT64_DIR/updated
	apt64_opts
	mkdir -p "$APT64_DIR/state" "$APT64_DIR/lists/partial" \
		"$APT64_DIR/cache/archives/partial" "$APT64_DIR/preferences.d"
	(
		flock 7
		if [ -f "$stamp" ] && [ -z "$(find "$stamp" -mmin +60)" ] &&
			[ "$(cat "$APT64_DIR/sources.list" 2>/dev/null)" != "" ]; then
			exit 0
		fi
		# The machine's Debian entries, as apt lists them (any format,
		# any mirror); other vendors' repositories are left out.
		apt-get indextargets --format '$(REPO_URI) $(RELEASE) $(COMPONENT) $(ORIGIN)' \
			'Created-By: Packages' 2>/dev/null |
			awk '$4 ~ /^Debian/ && $2 ~ /^bookworm/ {
				print "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] " $1 " " $2 " " $3
			}' | sort -u >"$APT64_DIR/sources.list.tmp"
		[ -s "$APT64_DIR/sources.list.tmp" ] ||
			die "the machine's apt has no Debian bookworm entry to take the arm64 lists from"
		mv "$APT64_DIR/sources.list.tmp" "$APT64_DIR/sources.list"
		apt-get "${APT64[@]}" -q update >"$APT64_DIR/update.log" 2>&1 ||
			{ cat "$APT64_DIR/update.log" >&2; die "apt-get update of the arm64 lists failed"; }
		touch "$stamp"
	) 7>"$APT64_DIR.lock"
}

apt64() {
	local tool=$1
	shift
	apt64_opts
	"apt-$tool" "${APT64[@]}" "$@"
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
