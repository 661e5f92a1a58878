#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 64 --no-indirect
# drivers: ours intree
# 64 lines read and set at once on QEMU's 64-entry ring, without indirect
# descriptors (a request takes two entries, so the batch must be split).
. /tests/ring-common.sh
