#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# sim: --lines 32
# drivers: bench
# Run by make bench (scripts/bench.sh), not by make test: times reads and
# writes of one line and of 32 lines at once.
. /tests/lib.sh

ITER=${ITER:-300}
check "load the $GV_driver driver" gv_load || finish
chip=$(gv_chip)
use_gen 2
out=$(gvbench "/dev/$chip" 32 "$ITER")
report $? "gvbench runs" "$out"
echo "GV-BENCH: $out"
check "unload the $GV_driver driver" gv_unload
finish
