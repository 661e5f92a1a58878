#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 64
# drivers: ours intree
# 64 lines read and set at once on QEMU's 64-entry ring.
. /tests/ring-common.sh
