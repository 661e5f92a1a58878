# SPDX-License-Identifier: GPL-2.0
# Shared by the harness scripts: the cache location and error reporting.
# shellcheck shell=bash

top=${top:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
CACHE=${CACHE:-$top/.cache}
export CACHE

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}
